# The project's commands. Each installs what it needs into .venv first (once).
#   make book      install everything and build the site into _build/html, with its PDF
#   make pdf       only the PDF of the whole book (_build/html/why-wont-it-converge.pdf)
#   make test      unit tests, notebook policy tests, the book build, nbval on every notebook,
#                  then nbval again as on an older CPU (make test-portable)
#   make execute   re-execute every notebook in place, each in a fresh kernel
#   make bench     the explorer, sweep, website, JupyterLab and checkup benchmarks
#   make colab-check  run every chapter with Colab's versions (own venv: .venv-colab)

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install lab book pdf test test-portable execute bench lint colab-check zizmor clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

# --all: re-read every page, so a warning in an unchanged page still fails the build.
book: $(STAMP)
	$(BIN)/jupyter-book build . --all --warningiserror --nitpick --keep-going
	$(MAKE) pdf

# The single-page site printed by the system's Chromium (tools/build_pdf.py says how).
pdf: $(STAMP)
	$(BIN)/python tools/build_pdf.py

test: $(STAMP)
	$(BIN)/python -m pytest
	$(MAKE) test-portable

# nbval once more with PyTorch, numpy and MKL held to older SIMD kernels: another CPU
# rounds differently, so a printed digit that depends on the machine fails here too.
# (numpy's names are those of numpy >= 2.3, as pinned in requirements.txt.)
PORTABLE_ENV := ATEN_CPU_CAPABILITY=default MKL_ENABLE_INSTRUCTIONS=SSE4_2 \
	DNNL_MAX_CPU_ISA=SSE41 NPY_DISABLE_CPU_FEATURES="X86_V3 X86_V4 AVX512_ICL AVX512_SPR"

test-portable: $(STAMP)
	$(PORTABLE_ENV) $(BIN)/python -m pytest book

execute: $(STAMP)
	$(BIN)/python tools/execute_notebooks.py

BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP) benchmarks/requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r benchmarks/requirements.txt
	touch $(BENCH_STAMP)

# JupyterLab on the chapters, with the helper's server extension: kernel messages reach
# the browser without Nagle's ~40 ms delay (src/convergence_lab/lab_server.py says why).
lab: $(BENCH_STAMP)
	$(BIN)/jupyter lab --ServerApp.jpserver_extensions=convergence_lab.lab_server=True book

# Every benchmark runs, and the target fails if any missed its budget.
bench: $(BENCH_STAMP)
	@status=0; \
	$(BIN)/python benchmarks/bench_explorer.py || status=1; \
	$(BIN)/python benchmarks/bench_static_explorer.py || status=1; \
	$(BIN)/python benchmarks/bench_site.py || status=1; \
	$(BIN)/python benchmarks/bench_jupyterlab.py || status=1; \
	$(BIN)/python benchmarks/bench_checkup.py || status=1; \
	exit $$status

# Builds .venv-colab from colab/requirements-colab.txt (needs no .venv), installs the
# helper as the notebooks' Colab cell does, and executes every chapter there.
colab-check:
	$(PYTHON) tools/colab_check.py

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks tools book/_ext

# The workflows' security audit (also a test in tests/project/test_workflows.py).
zizmor: $(STAMP)
	$(BIN)/zizmor --offline --persona=pedantic .github/

clean:
	rm -rf _build
