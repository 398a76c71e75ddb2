import pandas as pd
import torch

from occlusion_fr.crop import CropGeometry
from occlusion_fr.detect import detect_and_crop, make_detector
from occlusion_fr.logs import job_logging

with job_logging(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    p = snakemake.params
    options = {"min_face_size": p.min_face_size, "thresholds": p.thresholds} if p.detector == "mtcnn" else {}
    detect_and_crop(pd.read_csv(snakemake.input.index), snakemake.input.images, make_detector(p.detector, **options),
                    snakemake.output.crops, snakemake.output.faces, snakemake.output.failures,
                    CropGeometry.from_param(p.crop), batch_size=p.batch_size, min_images=getattr(p, "min_images", None))
