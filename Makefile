# The course's commands. `make help` lists them.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
# NB=05_lenet limits `make solutions` to one notebook; FORCE=1 lets `make labs` overwrite worked labs.
NB ?=
FORCE ?=
# make grade SUBMISSIONS=folder [OUT=folder]: OUT defaults to grading/out (ignored by git).
SUBMISSIONS ?=
OUT ?= grading/out
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-k conv"`.
PYTEST_ARGS ?=

.PHONY: help install lab test unit lint fmt labs solutions bench grade lock clean site site-check browser
.PHONY: sandbox grade-merge test-grading release
.PHONY: rehearse

help:
	@echo "make lab        install (first time) and start JupyterLab on the course"
	@echo "make test       install (first time) and run the whole test suite"
	@echo "make lint       fast checks: ruff, notebook format, labs in sync, no leaks"
	@echo "make fmt        format code and notebooks, fix Colab badges"
	@echo "make labs       regenerate labs/ from solutions/"
	@echo "make solutions  execute solutions/ in the smoke profile and store their outputs"
	@echo "make bench      run the speed benchmarks and print their tables"
	@echo "make test-colab every lecture and solution alone, in Colab's versions (Python 3.12)"
	@echo "make rehearse   run every notebook's full profile offline: memory, work, T4 time"
	@echo "make site       build the course website into build/site/"
	@echo "make site-check build the website if needed and check it in headless Chromium"
	@echo "make grade SUBMISSIONS=dir [OUT=dir]  grade learners' labs: OUT/grades.csv + feedback"
	@echo "make grade SUBMISSIONS=dir SHARD=i/n  grade one shard; then make grade-merge OUT=dir"
	@echo "make test-grading   every lab graded, and the attack suite (slow)"
	@echo "make release OUT=dir [RELEASE_REPO=owner/name]  the learner-facing course"

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	$(PY) -m pip install --disable-pip-version-check -q --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --no-browser --ip=127.0.0.1 $(ROOT_FLAG) --notebook-dir=.

lint: $(STAMP)
	$(VENV)/bin/ruff check conftest.py utils tests notebooks labs solutions
	$(VENV)/bin/ruff format --check conftest.py utils tests notebooks labs solutions
	$(PY) -m utils.tooling lint

fmt: $(STAMP)
	$(VENV)/bin/ruff format conftest.py utils tests notebooks solutions
	$(VENV)/bin/ruff check --fix conftest.py utils tests notebooks solutions
	$(PY) -m utils.tooling fmt
	$(PY) -m utils.tooling labs $(if $(FORCE),--force,)

labs: $(STAMP)
	$(PY) -m utils.tooling labs $(if $(FORCE),--force,)

solutions: $(STAMP)
	$(PY) -m utils.tooling solutions $(NB)

# Suites with their own make targets (and CI steps), left out of `make test`.
OWN_TARGET_MARKERS := not site and not grading and not rehearsal
# Parallel workers for `make test` (pytest-xdist); each solution's cells stay on one worker.
TEST_JOBS ?= auto

test: lint sandbox
	$(PY) -m pytest tests solutions --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg \
		--nbval-kernel-name course-other-cpu -p no:cacheprovider -n $(TEST_JOBS) \
		--dist loadgroup -m "$(OWN_TARGET_MARKERS)" $(PYTEST_ARGS)

# Debian's bubblewrap, the grader's sandbox for learners' kernels (apt-get when root).
sandbox:
	@if command -v bwrap >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap; \
	else echo "WARNING: no bubblewrap: the grader would run learners' kernels unsandboxed."; \
		echo "  sudo apt-get install bubblewrap"; fi

# SHARD=i/n grades shard i of n of the learners (into OUT/grades-shard-i-of-n.csv);
# SEED=... reproduces a run (its seed is in grades.csv).
grade: $(STAMP) sandbox
	@test -n "$(SUBMISSIONS)" || (echo "usage: make grade SUBMISSIONS=path/to/folder [OUT=dir] [SHARD=i/n] [SEED=n]"; exit 2)
	$(PY) -m utils.tooling grade "$(SUBMISSIONS)" --out "$(OUT)" $(if $(SHARD),--shard $(SHARD),) $(if $(SEED),--seed $(SEED),)

grade-merge: $(STAMP)
	$(PY) -m utils.tooling grade --merge --out "$(OUT)"

# Every lab graded (solution = full marks, blank = 0) and the attack suite, in sandboxed kernels.
test-grading: $(STAMP) sandbox
	$(PY) -m pytest tests -m grading -p no:cacheprovider -s $(PYTEST_ARGS)

# make release OUT=dir [RELEASE_REPO=owner/name]: the learner-facing course, scanned for answers.
release: $(STAMP)
	@test -n "$(filter-out grading/out,$(OUT))" || (echo "usage: make release OUT=dir [RELEASE_REPO=owner/name]"; exit 2)
	$(PY) -m utils.tooling release "$(OUT)" $(if $(RELEASE_REPO),--repo $(RELEASE_REPO),)

bench: $(STAMP)
	$(PY) -m utils.tooling bench

# Colab as learners meet it: a fresh Python 3.12 venv with Colab's versions
# (requirements-colab.txt), the course wheel installed as the setup cell does, no
# preinstalled package changed, every lecture and solution run alone (smoke). NB=03 limits it.
.PHONY: test-colab
test-colab: $(STAMP)
	$(PY) -m utils.tooling.colab $(NB)

# The full profile of every lecture and solution, offline: stand-in data of the full sets'
# sizes, untrained weights, a few steps per epoch; prints seconds, peak RSS, work, T4 estimate.
rehearse: $(STAMP)
	COURSE_REHEARSE=1 $(PY) -m pytest tests/test_rehearsal.py -m rehearsal -s -q -p no:cacheprovider

unit: $(STAMP)
	$(PY) -m pytest tests -m "not notebook and $(OWN_TARGET_MARKERS)" $(PYTEST_ARGS)

# The course website in build/site/: lectures with the outputs of a smoke run (reusing those
# `make test` left in build/executed/, running the others), labs blank, syllabus, run times.
SITE_INPUTS := README.md $(wildcard notebooks/*.ipynb labs/*.ipynb utils/tooling/site/* build/executed/timings.json)
site: $(STAMP)
	$(PY) -m utils.tooling.site

build/site/index.html: $(STAMP) $(SITE_INPUTS)
	$(PY) -m utils.tooling.site

# Debian's chromium and chromedriver, which `make site-check` drives (apt-get when root).
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	else echo "make site-check needs Debian's chromium and chromium-driver:"; \
		echo "  sudo apt-get install chromium chromium-driver"; exit 1; fi

# Every page in headless Chromium: console errors, broken links, missing figures, leaked answers.
site-check: build/site/index.html browser
	$(PY) -m pytest tests/test_site.py tests/test_explorers.py -m site -p no:cacheprovider $(PYTEST_ARGS)

# Re-resolve requirements.in into the pinned requirements.txt (needs the package index).
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/pip install -q -r requirements.in
	.lockenv/bin/pip freeze --exclude-editable | sort -f > requirements.txt
	rm -rf .lockenv

clean:
	rm -rf .runs build *.egg-info
