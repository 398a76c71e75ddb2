# Two commands: `make run` (pipeline) and `make test` (test suite). Both create .venv
# and install the pinned dependencies first when needed.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATASET ?= synthetic
# A local lfw-deepfunneled.tgz, copied to data/lfw/ when the DVC remote cannot provide it.
LFW_ARCHIVE ?= ../shared/data/lfw/lfw-deepfunneled.tgz
CORES ?= all
# Run seeds, e.g. SEEDS=0 or SEEDS=0,1,2; empty: config.yaml's `seeds`.
SEEDS ?=
SEEDS_CONFIG := $(if $(SEEDS),'seeds=[$(SEEDS)]')
# A config overlay for an experiment, e.g. CONFIGFILE=experiments/pooled_head.yaml (with its DATASET).
CONFIGFILE ?=
SEEDS_CONFIG += $(if $(CONFIGFILE),--configfile $(CONFIGFILE))

.PHONY: run pull test test-fast dry-run report bench bench-tool readme aggregate table-beyond bundle gpu-pack gpu-check clean-venv

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	# facenet-pytorch's metadata pins torch<2.3; it works with torch 2.14 and numpy 2.
	$(BIN)/python -m pip install --quiet --no-deps facenet-pytorch==2.6.0
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# The run's wall time goes to results/$(DATASET)/run_times.csv (jobs' own times: benchmarks/).
run: $(STAMP) $(if $(filter lfw%,$(DATASET)),data/lfw/lfw-deepfunneled.tgz)
	start=$$(date +%s) && $(BIN)/snakemake --cores $(CORES) --config dataset=$(DATASET) $(SEEDS_CONFIG) && \
	$(BIN)/python -m occlusion_fr_tooling.record_run --dataset $(DATASET) --cores $(CORES) --seconds $$(( $$(date +%s) - start )) \
	  --seeds "$(or $(SEEDS),$$($(BIN)/python -c 'import yaml; print(*yaml.safe_load(open("config.yaml"))["seeds"], sep=",")'))"

# A run seed's bundle for `occlusion-fr identify|verify|enroll` (runs what it needs first):
# results/$(DATASET)/seed$(SEED)/bundle.
bundle: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --config dataset=$(DATASET) 'seeds=[$(SEED)]' -- results/$(DATASET)/seed$(SEED)/bundle

# The LFW archive (versioned by DVC): from the remote, else LFW_ARCHIVE; if neither has it the
# pipeline downloads datasets.lfw.url. Its sha256 is checked by the pipeline in every case.
data/lfw/lfw-deepfunneled.tgz: | $(STAMP)
	$(BIN)/dvc pull --quiet $@ 2>/dev/null || { test ! -f "$(LFW_ARCHIVE)" || cp "$(LFW_ARCHIVE)" $@; }

# Data and weights of the committed run (dvc.lock) from the DVC remote, without retraining:
# REMOTE=<url or folder> names the remote (else the repository's default remote).
pull: $(STAMP)
	REMOTE="$(REMOTE)" PATH="$(abspath $(BIN)):$$PATH" bash occlusion_fr_tooling/dvc_pull.sh

# HTML report of a finished run: Table 1, masks, saliency, models, data (captions in report/).
report: $(STAMP)
	$(BIN)/snakemake --config dataset=$(DATASET) $(SEEDS_CONFIG) --report results/$(DATASET)/report.html

dry-run: $(STAMP)
	$(BIN)/snakemake -n --config dataset=$(DATASET) $(SEEDS_CONFIG)

# pytest exits 5 when it collects no test: that is a failure here, as any non-zero exit.
test: $(STAMP)
	$(BIN)/python -m pytest

# The edit loop: unit and small integration tests, without the tests marked slow (full Snakemake
# workflows, DVC, SLURM, real trainings). `make test` and CI run everything.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" --durations=5

# Stage times and peak memory of run seed SEED (benchmark files), what editing one masking layout
# would rerun and cost, this machine's limit against each training stage (written to
# results/compute_limits/), and the training settings worth trying against fp32 eager (ratios
# measured in this one run; torch.compile takes minutes: BENCH_COMPILE=--no-compile skips it), and
# the evaluation's scoring with and without the shared embedding cache.
SEED ?= 0
BENCH_COMPILE ?=
bench: $(STAMP)
	$(BIN)/python -m occlusion_fr_tooling.stage_times --dataset $(DATASET) --seed $(SEED)
	$(BIN)/python -m occlusion_fr_tooling.layout_rerun --dataset $(DATASET) --seed $(SEED)
	$(BIN)/python -m occlusion_fr_tooling.compute_limits
	$(BIN)/python -m occlusion_fr_tooling.train_throughput --dataset $(DATASET) $(BENCH_COMPILE)
	$(BIN)/python -m occlusion_fr_tooling.mask_generator_throughput
	$(BIN)/python -m occlusion_fr_tooling.embedding_cache_throughput

# Whether the tool's numbers hold for run seed SEED's bundle (runs what it needs first): declared
# against measured FAR on held-out pairs, tool against Table 1 rank-1 (tool_benchmark/summary.md).
bench-tool: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --config dataset=$(DATASET) 'seeds=[$(SEED)]' -- results/$(DATASET)/seed$(SEED)/tool_benchmark/summary.md
	cat results/$(DATASET)/seed$(SEED)/tool_benchmark/summary.md

# Table 1 over the seeds from the seeds' committed results alone (no seed is rerun): for seeds run
# on different days or machines, e.g. `make aggregate DATASET=lfw SEEDS=0,1,2`, then `make readme`.
# The open set joins once every seed has its open_set.csv (runs of this version).
aggregate: $(STAMP)
	$(BIN)/snakemake --cores 1 --config dataset=$(DATASET) $(SEEDS_CONFIG) --allowed-rules across_seeds -- \
	  $(addprefix results/$(DATASET)/across_seeds/,table1.md table1.json models.md)
	seeds="$(or $(SEEDS),$$($(BIN)/python -c 'import yaml; print(*yaml.safe_load(open("config.yaml"))["seeds"], sep=",")'))"; \
	missing=0; for s in $$(echo $$seeds | tr , ' '); do test -f results/$(DATASET)/seed$$s/open_set.csv || missing=1; done; \
	if [ $$missing = 0 ]; then \
	  $(BIN)/snakemake --cores 1 --config dataset=$(DATASET) $(SEEDS_CONFIG) --allowed-rules open_set_across_seeds -- \
	    results/$(DATASET)/across_seeds/open_set.md; \
	else echo "across_seeds/open_set.md: not every seed of $$seeds has open_set.csv yet"; fi

# The extended table (issue 29): the plain LFW base against each experiment's run (experiments/*.yaml),
# from their finished seeds: results/lfw/table_beyond.{csv,md}.
table-beyond: $(STAMP)
	$(BIN)/python -m occlusion_fr_tooling.table_beyond --seeds $(or $(SEEDS),0,1,2)

# The results sections of README.md, docs/results.md and docs/performance.md, rendered from the
# committed LFW results (a test checks them).
readme: $(STAMP)
	$(BIN)/python -m occlusion_fr_tooling.render_readme

# The GPU path: `gpu-pack` (here) prepares .gpu/ (LFW's people with >= 10 images, wheels the
# device image lacks) in parts that fit the device tool's 64 MiB per call; `gpu-check` (on a CUDA
# machine) runs one LFW seed with the GPU settings and prints stage times. See occlusion_fr_tooling/gpu_check.sh.
gpu-pack: $(STAMP)
	$(BIN)/python -m occlusion_fr_tooling.gpu_pack --archive $(LFW_ARCHIVE)

gpu-check:
	bash occlusion_fr_tooling/gpu_check.sh run

clean-venv:
	rm -rf $(VENV)
