# Two commands on a fresh clone:
#   make demo   creates .venv if needed, then runs the main job
#   make test   creates .venv if needed, then runs the test suite
PYTHON ?= python3.11
VENV := .venv
INSTALLED := $(VENV)/.installed

export TF_CPP_MIN_LOG_LEVEL := 3

.PHONY: .venv demo test baseline

# The virtual environment with the package (editable) and the test tools.
.venv: $(INSTALLED)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): $(VENV)/bin/python setup.py
	$(VENV)/bin/pip install -e '.[test]'
	touch $@

# Main job. Until a trained model exists: a quick run of the evaluation
# harness (two Kodak images, JPEG 4:2:0 and 4:4:4) into runs/demo.
demo: .venv
	$(VENV)/bin/nlaic evaluate --codecs jpeg420,jpeg444 --limit 2 --out runs/demo \
		--name demo --anchors all

test: .venv
	$(VENV)/bin/python -m pytest -q tests

# The committed Kodak baseline (results/kodak_baseline*): every comparison
# codec on all 24 images, one process. About 20 minutes on 2 cores.
baseline: .venv
	$(VENV)/bin/nlaic evaluate --images ../shared/data/kodak --out results \
		--name kodak_baseline --anchors all --workers 1
	$(VENV)/bin/nlaic bdrate results/kodak_baseline_summary.csv --anchor jpeg420 \
		--published all
