# Two commands on a fresh clone:
#   make demo   creates .venv if needed, then runs the main job
#   make test   creates .venv if needed, then runs the test suite
PYTHON ?= python3.11
VENV := .venv
INSTALLED := $(VENV)/.installed

export TF_CPP_MIN_LOG_LEVEL := 3

.PHONY: .venv demo test baseline results results-model results-msssim results-refined

# The virtual environment with the package (editable) and the test tools
# (the test extra includes the evaluation extra, eval: scipy, matplotlib, pillow-heif).
.venv: $(INSTALLED)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): $(VENV)/bin/python setup.py
	$(VENV)/bin/pip install -e '.[test]'
	touch $@

# Main job: compress and decompress the bundled image with the shipped model
# at every rate level; prints bpp, PSNR and MS-SSIM (files in runs/demo).
demo: .venv
	$(VENV)/bin/nlaic demo

# Two worker processes sharing units of work (test files; tests/conftest.py
# groups and orders them); --durations names what takes longest.
test: .venv
	$(VENV)/bin/python -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder --durations 15 tests

# The committed Kodak baseline (results/kodak_baseline*): every comparison
# codec on all 24 images, one process. About 20 minutes on 2 cores.
baseline: .venv
	$(VENV)/bin/nlaic evaluate --images ../shared/data/kodak --out results \
		--name kodak_baseline --anchors all --workers 1
	$(VENV)/bin/nlaic bdrate results/kodak_baseline_summary.csv --anchor jpeg420 \
		--published all

# The committed Kodak results (results/kodak*): the shipped model and every
# comparison codec on all 24 images, one process, then the BD-rates of nlaic
# against each anchor. About 35 minutes on 2 cores.
KODAK_RESULTS = $(VENV)/bin/nlaic evaluate --images ../shared/data/kodak --out results \
	--name kodak --codecs nlaic,jpeg420,jpeg444,jpeg2000,webp,avif,hevc --anchors all --workers 1
results: .venv
	$(KODAK_RESULTS)
	$(VENV)/bin/nlaic bdrate results/kodak_summary.csv --codec nlaic --published all

# The same for a new model, with the comparison codecs' rows taken from the
# committed results/kodak.csv (same images, tools and settings) instead of
# being run again. About 10 minutes on 2 cores.
results-model: .venv
	$(KODAK_RESULTS) --reuse results/kodak.csv
	$(VENV)/bin/nlaic bdrate results/kodak_summary.csv --codec nlaic --published all

# The MS-SSIM model (nlaic-msssim) on all 24 Kodak images beside the
# comparison codecs (rows reused from results/kodak.csv, as results-model),
# then its BD-rates against each anchor. About 10 minutes on 2 cores.
results-msssim: .venv
	$(VENV)/bin/nlaic evaluate --images ../shared/data/kodak --out results \
		--name kodak_msssim --codecs nlaic-msssim,jpeg420,jpeg444,jpeg2000,webp,avif,hevc \
		--anchors all --workers 1 --reuse results/kodak.csv
	$(VENV)/bin/nlaic bdrate results/kodak_msssim_summary.csv --codec nlaic-msssim --published all

# The committed refinement results (results/kodak_refined*): nlaic with and
# without 20 steps of encoder-side latent refinement beside every comparison
# codec on all 24 images, one process, then the BD-rates of the refined
# encoder against each anchor and against nlaic. About 2 hours on 2 cores.
results-refined: .venv
	$(VENV)/bin/nlaic evaluate --images ../shared/data/kodak --out results --name kodak_refined \
		--codecs nlaic,nlaic-refined,jpeg420,jpeg444,jpeg2000,webp,avif,hevc --anchors all --workers 1
	$(VENV)/bin/nlaic bdrate results/kodak_refined_summary.csv --codec nlaic-refined --published all
