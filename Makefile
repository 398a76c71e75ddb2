# Two commands: `make run` (pipeline) and `make test` (test suite). Both create .venv
# and install the pinned dependencies first when needed.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATASET ?= synthetic
CORES ?= all

.PHONY: run test dry-run report bench clean-venv

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	# facenet-pytorch's metadata pins torch<2.3; it works with torch 2.14 and numpy 2.
	$(BIN)/python -m pip install --quiet --no-deps facenet-pytorch==2.6.0
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --config dataset=$(DATASET)

# HTML report of a finished run: Table 1, masks, saliency, models, data (captions in report/).
report: $(STAMP)
	$(BIN)/snakemake --config dataset=$(DATASET) --report results/$(DATASET)/report.html

dry-run: $(STAMP)
	$(BIN)/snakemake -n --config dataset=$(DATASET)

# pytest exits 5 when it collects no test: that is a failure here, as any non-zero exit.
test: $(STAMP)
	$(BIN)/python -m pytest

# Training throughput, fp32 eager against the chosen CPU setting (prints ratios).
bench: $(STAMP)
	$(BIN)/python benchmarks/train_throughput.py --dataset $(DATASET)

clean-venv:
	rm -rf $(VENV)
