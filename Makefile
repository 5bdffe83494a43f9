# Two commands do everything on a fresh machine: `make demo` and `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
SHARED ?= ../shared
export HF_HUB_OFFLINE = 1
export TRANSFORMERS_OFFLINE = 1
export ANONYMIZED_TELEMETRY = False

.PHONY: install test demo eval bench clean corpus-pdfs

install: $(STAMP)

# torch first, pinned: this machine carries the CPU wheel; a plain `torch` pulls CUDA builds.
$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --disable-pip-version-check torch==2.13.0
	$(PIP) install -q --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest

demo: $(STAMP)
	$(VENV)/bin/minutes demo --store .demo-store

eval: $(STAMP)
	@if [ -d $(SHARED)/eval/gold ]; then \
	  echo "== extraction: shared gold ($(SHARED)/eval/gold)"; \
	  $(PY) scripts/eval_extraction.py $(SHARED)/eval/gold $(SHARED)/data --out .eval/shared.jsonl \
	    --scorer $(SHARED)/eval/score_extraction.py --fp; \
	else echo "== $(SHARED)/eval not found: shared evaluation skipped"; fi
	@echo "== extraction: bundled corpus (corpus/gold)"
	@$(PY) scripts/eval_extraction.py corpus/gold corpus --out .eval/corpus.jsonl --fp \
	  $(if $(wildcard $(SHARED)/eval/score_extraction.py),--scorer $(SHARED)/eval/score_extraction.py,--scorer scripts/score_extraction_local.py)

bench: $(STAMP)
	$(PY) bench/pdf_readers.py --kent $(SHARED)/data/kent --out .bench/pdf_readers.json

corpus-pdfs: $(STAMP)
	$(PY) scripts/make_corpus_pdfs.py

clean:
	rm -rf .demo-store .minutes-store .eval .bench
