# Two commands do everything on a fresh machine: `make demo` and `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
SHARED ?= ../shared
export HF_HUB_OFFLINE = 1
export TRANSFORMERS_OFFLINE = 1
export ANONYMIZED_TELEMETRY = False

.PHONY: install test demo eval eval-backends bench bench-pdf clean corpus-pdfs browser tesseract

install: $(STAMP)

# torch first, pinned: this machine carries the CPU wheel; a plain `torch` pulls CUDA builds.
$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --disable-pip-version-check torch==2.13.0
	$(PIP) install -q --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

test: $(STAMP) browser tesseract
	$(PY) -m pytest

# The web tests drive Debian's Chromium (never `playwright install`): apt-get it when missing.
browser:
	@test -x /usr/bin/chromium || { apt-get update && apt-get install -y chromium; }

# OCR of scanned PDFs runs Debian's Tesseract (tests/test_ocr.py): apt-get it when missing.
tesseract:
	@command -v tesseract >/dev/null || { apt-get update && apt-get install -y tesseract-ocr; }

demo: $(STAMP)
	$(VENV)/bin/minutes demo --store .demo-store

# Quality, printed beside the baselines on the same files (see README "Evaluation"):
# extraction per kind, per group and per document, false positives per rule; search
# (recall@5 / MRR@10) for each shared query file and all of them, ours beside BM25 and MiniLM
# over 180-word windows, without and with the Kent PDFs as distractors. Stores are cached
# under .eval (the first Kent run ingests 139 PDFs: minutes).
DOCS_SHARED = $(SHARED)/data/seeds $(SHARED)/data/real $(SHARED)/data/composed
QUERIES_SHARED = dev=$(SHARED)/eval/queries/dev.jsonl composed=$(SHARED)/eval/queries/composed.jsonl \
  real-dev=$(SHARED)/eval/queries/real-dev.jsonl
CORPUS_DIRS = $$(find corpus -mindepth 1 -maxdepth 1 -type d ! -name '_*' ! -name gold | sort)
SCORER_X = $(if $(wildcard $(SHARED)/eval/score_extraction.py),--scorer $(SHARED)/eval/score_extraction.py,--scorer scripts/score_extraction_local.py)
eval: $(STAMP)
	@if [ -d $(SHARED)/eval/gold ]; then \
	  echo "== extraction: shared gold ($(SHARED)/eval/gold), real minutes first"; \
	  $(PY) scripts/eval_extraction.py $(SHARED)/eval/gold $(DOCS_SHARED) --out .eval/shared.jsonl \
	    --scorer $(SHARED)/eval/score_extraction.py --group "first 5=$(SHARED)/eval/queries/dev.jsonl"; \
	else echo "== $(SHARED)/eval not found: shared evaluation skipped"; fi
	@echo "== extraction: bundled corpus (corpus/gold)"
	@$(PY) scripts/eval_extraction.py corpus/gold corpus --out .eval/corpus.jsonl $(SCORER_X)
	@if [ -d $(SHARED)/eval/gold ]; then \
	  echo "== search: shared documents, each query file and all"; \
	  $(PY) scripts/eval_search.py --gold $(SHARED)/eval/gold --docs $(DOCS_SHARED) --queries $(QUERIES_SHARED) --label shared; \
	  if [ -d $(SHARED)/data/kent ]; then \
	    echo "== search: shared documents, Kent PDFs as distractors"; \
	    $(PY) scripts/eval_search.py --gold $(SHARED)/eval/gold --docs $(DOCS_SHARED) --queries $(QUERIES_SHARED) \
	      --distractors $(SHARED)/data/kent --label shared-kent; \
	  fi; \
	fi
	@echo "== search: bundled corpus (corpus/queries.jsonl)"
	@$(PY) scripts/eval_search.py --gold corpus/gold --queries corpus=corpus/queries.jsonl --manifest corpus/manifest.csv \
	  --docs $(CORPUS_DIRS) --label corpus
	@if [ -d $(SHARED)/data/kent ]; then \
	  echo "== search: bundled corpus, Kent PDFs as distractors"; \
	  $(PY) scripts/eval_search.py --gold corpus/gold --queries corpus=corpus/queries.jsonl --manifest corpus/manifest.csv \
	    --docs $(CORPUS_DIRS) --distractors $(SHARED)/data/kent --label corpus-kent; \
	fi
	@echo "== follow-up links: corpus/gold/follow (and the seed checks when $(SHARED)/data/seeds exists)"
	@$(PY) scripts/eval_follow.py $(if $(wildcard $(SHARED)/data/seeds),--seeds $(SHARED)/data/seeds)

# Search quality of each embedding backend (torch, bf16, onnx, int8) on the same queries, and
# the cosine of its vectors with torch's; KENT=1 adds the Kent PDFs as distractors (slow).
eval-backends: $(STAMP)
	$(PY) scripts/compare_backends.py $(if $(KENT),--kent)

# Speed is measured here, never in tests: bench/run.py runs ingest, embedding floor, no-change
# sync, query latency and the hand-built baseline one after another and writes
# .bench/report.json. BENCH_DEVICE=cuda on a GPU machine; BENCH_LIMIT=N for a quick run;
# MINUTES_EMBED_BACKEND=torch|onnx|int8. `make bench-pdf` compares the PDF engines.
BENCH_DEVICE ?=
BENCH_LIMIT ?=
bench: $(STAMP)
	@mkdir -p .bench
	$(PY) bench/run.py --data $(SHARED)/data/kent $(if $(BENCH_DEVICE),--device $(BENCH_DEVICE)) \
	  $(if $(BENCH_LIMIT),--limit $(BENCH_LIMIT))

bench-pdf: $(STAMP)
	$(PY) bench/pdf_readers.py $(SHARED)/data/kent --out .bench/pdf_readers.json

corpus-pdfs: $(STAMP)
	$(PY) scripts/make_corpus_pdfs.py

clean:
	rm -rf .demo-store .minutes-store .eval .bench
