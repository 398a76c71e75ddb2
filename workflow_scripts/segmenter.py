import numpy as np
import pandas as pd
import torch

from occlusion_fr.figures import image_grid, training_curves
from occlusion_fr.io import save_figure, write_csv, write_json, write_text
from occlusion_fr.logs import job_logging
from occlusion_fr.models.checkpoints import mark_finished
from occlusion_fr.models.train_segmenter import evaluate_segmenter, segmenter_markdown, train_segmenter
from occlusion_fr.models.training import choose_device, save_checkpoint

with job_logging(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    p, out, dataset = snakemake.params, snakemake.output, snakemake.wildcards.dataset
    table = pd.read_csv(snakemake.input.split)
    device = choose_device(p.settings["precision"])
    record = train_segmenter(table, p.sets_dir, snakemake.input.crops, p.occlusion_sets, p.settings, p.seed,
                             p.checkpoints, device)
    model = record.pop("model")
    save_checkpoint(out.weights, {k: v.detach().cpu() for k, v in model.state_dict().items()})
    scores, test, predicted = evaluate_segmenter(model, table, p.sets_dir, snakemake.input.crops,
                                                 p.occlusion_sets["test"], device)
    write_csv(out.table, scores)
    write_text(out.report, segmenter_markdown(scores, dataset))
    write_json(out.metrics, {"settings": p.settings, "seed": p.seed, **record,
                             "test": scores.set_index("occlusion").to_dict(orient="index")})
    save_figure(out.curves, training_curves(record["history"], ["loss"], ["val_iou", "val_pixel_accuracy"],
                                            f"{dataset}: segmenter ({record['encoder']})"))

    # Paper Fig. 7: one test image per occlusion, its prediction and its label.
    picks = [int(np.flatnonzero(test.occlusion == o)[0]) for o in dict.fromkeys(test.occlusion)]
    rows = {"image": [test.images[i].permute(1, 2, 0).numpy() for i in picks],
            "predicted": [predicted[i, 0].numpy() for i in picks],
            "label": [test.labels[i, 0].numpy() > 0.5 for i in picks]}
    save_figure(out.predictions, image_grid(rows, [test.occlusion[i] for i in picks],
                                            f"{dataset}: segmenter on test images"), dpi=90)
    mark_finished(p.checkpoints)  # outputs written: a later run of this job trains afresh
