"""Screenshots of the site for the docs: /meetings, a search sorted by date, a question's
"asked before" with match strengths, a record page (whole, with "What happened next"), and a search's Atom feed.

usage: python scripts/screenshots.py --store STORE [--out docs/screenshots]

Serves STORE on 127.0.0.1 (a free port) and drives Debian's Chromium with Playwright.
"""
from __future__ import annotations

import argparse
import re
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", required=True)
    ap.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    ap.add_argument("--query", default="dentistry access")
    args = ap.parse_args(argv)

    import uvicorn
    from playwright.sync_api import sync_playwright

    from minutes import Store
    from minutes.web import create_app
    from tests.conftest import CHROMIUM, CHROMIUM_ARGS, free_port

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(Store(args.store)), host="127.0.0.1", port=port,
                                           log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.1)
    base = f"http://127.0.0.1:{port}"
    args.out.mkdir(parents=True, exist_ok=True)
    q = urllib.parse.quote_plus(args.query)
    html = urllib.request.urlopen(f"{base}/?q={q}&kind=question").read().decode()
    question = re.search(r'href="/asked-before/([a-z]-[0-9a-f]{16})"', html).group(1)
    shots = {
        "meetings.png": "/meetings",
        "search-by-date.png": f"/?q={q}&sort=date&k=10",
        "asked-before-strength.png": f"/asked-before/{question}?scope=all",
        "record.png": f"/record/{question}",
        "feed.png": f"/feed?q={q}&k=10",
    }
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        for name, path in shots.items():
            page.goto(base + path)
            page.screenshot(path=str(args.out / name), full_page=name == "record.png")
            _shrink(args.out / name)
            print(args.out / name, path)
        browser.close()
    server.should_exit = True
    return 0


def _shrink(path: Path) -> None:
    """64 colours: a screenshot of text stays legible at a third of the size."""
    try:
        from PIL import Image
    except ImportError:
        return
    Image.open(path).convert("RGB").quantize(colors=64).save(path, optimize=True)


if __name__ == "__main__":
    sys.exit(main())
