import torch

from occlusion_fr.crop import CropGeometry
from occlusion_fr.datasets.named_faces import prepare_outsider_faces
from occlusion_fr.detect import make_detector
from occlusion_fr.logs import job_logging

with job_logging(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    p, out = snakemake.params, snakemake.output
    options = {"min_face_size": p.min_face_size, "thresholds": p.thresholds} if p.detector == "mtcnn" else {}
    prepare_outsider_faces(out.people, p.source, p.settings, p.outsiders, make_detector(p.detector, **options),
                           out.images, out.crops, out.faces, out.failures, CropGeometry.from_param(p.crop), p.batch_size)
