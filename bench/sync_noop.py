"""A second `minutes sync` with nothing changed: seconds (fresh process, median of 3) and
whether torch / sentence-transformers / chromadb were imported.

    python bench/sync_noop.py ../shared/data/kent --store .bench/sync-store --out .bench/sync_noop.json

The first sync (when the cached store is empty) ingests everything and may take minutes."""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROBE = (
    "import sys, json, time\n"
    "t = time.perf_counter()\n"
    "from minutes.cli import main\n"
    "sys.argv = ['minutes', 'sync', *{paths!r}, '--store', {store!r}, '--json']\n"
    "try:\n    main()\nexcept SystemExit as e:\n    rc = e.code\n"
    "mods = [m for m in ('torch', 'sentence_transformers', 'spacy', 'chromadb') if m in sys.modules]\n"
    "print(json.dumps({{'rc': rc, 'imported': mods, 'in_process_s': time.perf_counter() - t}}))\n"
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--store", default=".bench/sync-store")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out")
    args = ap.parse_args()
    t = time.perf_counter()
    first = subprocess.run([sys.executable, "-m", "minutes.cli", "sync", *args.paths, "--store", args.store,
                            "--json"], capture_output=True, text=True)
    first_s = time.perf_counter() - t
    if first.returncode not in (0, 1):
        sys.exit(f"first sync failed: {first.stderr[-2000:]}")
    first_plan = json.loads(first.stdout)["plan"]["counts"]
    runs = []
    for _ in range(args.runs):
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", PROBE.format(paths=args.paths, store=args.store)],
                             capture_output=True, text=True)
        wall = time.perf_counter() - t
        lines = out.stdout.strip().splitlines()
        summary, probe = json.loads(lines[0]), json.loads(lines[-1])
        runs.append({"wall_s": round(wall, 3), "plan": summary["plan"]["counts"], **probe})
    result = {
        "paths": args.paths,
        "first_sync_s": round(first_s, 1),
        "first_sync_plan": first_plan,
        "noop_wall_s_median": round(statistics.median(r["wall_s"] for r in runs), 3),
        "torch_imported": any("torch" in r["imported"] for r in runs),
        "model_or_chroma_imported": sorted({m for r in runs for m in r["imported"]}),
        "runs": runs,
    }
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
