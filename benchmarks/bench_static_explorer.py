"""Benchmark: the website explorer (a recorded Explorer) in headless Chromium, offline.

    python benchmarks/bench_static_explorer.py                 # the chapter-3-sized demo
    python benchmarks/bench_static_explorer.py --notebook book/03-*/broadcast_regression.ipynb
    python benchmarks/bench_static_explorer.py _build/html/book/03-*/*.html   # built pages

For the demo or a notebook's ``explorer``: times the recording and reports the output
size, writes a page holding just that output, and drives it. For built pages: drives
them as they are. Every request that is not a local file is aborted (a reader offline).

Per page it reports the page weight (the HTML plus every local file it loads), the first
render (navigation start to the first frame with every explorer drawn), and the move
latency: for every control of every explorer, moves through all of its values and back
(keyboard for sliders and checkboxes, as a reader would; option picks for dropdowns),
each timed in the page from the input event's timestamp to the start of the next
animation frame after the canvas was drawn. Also counts moves that changed the canvas.
Targets (DESIGN.md): median under 16 ms, worst under 50 ms. Exits 1 if one is missed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from browser import launch
from playwright.sync_api import sync_playwright

from convergence_lab.recording import CANVAS_HASH_JS

MEDIAN_BUDGET, WORST_BUDGET = 16.0, 50.0

CANVAS_HASH = CANVAS_HASH_JS


def page_for(html: str) -> Path:
    out = Path(tempfile.mkdtemp()) / "explorer.html"
    out.write_text('<!doctype html><html><head><meta charset="utf-8"><title>explorer</title>'
                   f"</head><body>{html}</body></html>", encoding="utf-8")
    return out


def recorded_page(notebook: str | None):
    """Record the demo (or a notebook's explorer); return (page, seconds, bytes)."""
    from convergence_lab import recording as static_explorer

    if notebook:
        from bench_explorer import chapter_namespace

        explorer = chapter_namespace(Path(notebook).resolve())["explorer"]
        grid = explorer.web_grid
    else:
        from demo import demo_explorer

        explorer, grid = demo_explorer(), None
    start = time.perf_counter()
    rec = static_explorer.record(explorer, grid)
    seconds = time.perf_counter() - start
    print(f"recorded {rec.combinations} settings ({rec.frames} distinct frames) in "
          f"{seconds:.2f} s; output {rec.size / 1e6:.3f} MB (data {rec.blob_bytes / 1e6:.3f} MB)")
    return page_for(rec.html), seconds, rec.size


def drive(browser, path: Path, presses_per_slider: int = 0) -> dict:
    page = browser.new_page()
    errors, offsite, local = [], [], set()
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r):
        url = r.request.url
        if url.startswith(("file:", "data:", "blob:")):
            if url.startswith("file:"):
                local.add(url.split("?")[0].split("#")[0])
            r.continue_()
        else:
            offsite.append(url)
            r.abort()

    page.route("**/*", route)
    page.goto(path.resolve().as_uri())
    page.wait_for_function(
        "[...document.querySelectorAll('.cl-explorer')].every(e => e.dataset.rendered)",
        timeout=30_000)
    roots = page.query_selector_all(".cl-explorer")
    first = max(page.evaluate("r => r.clStats.first", r) for r in roots)
    moves = changed = 0
    for root in roots:
        for control in root.query_selector_all("[data-control]"):
            tag = control.evaluate("e => e.tagName + ':' + (e.type || '')")
            steps = []
            if tag == "INPUT:range":
                n = int(control.get_attribute("max")) + 1
                start = int(control.evaluate("e => +e.value"))
                control.focus()
                steps = ["End"] + ["ArrowLeft"] * (n - 1) + ["ArrowRight"] * (n - 1)
                steps += ["ArrowLeft"] * (n - 1 - start)
            elif tag == "INPUT:checkbox":
                control.focus()
                steps = [" ", " "] * 3
            elif tag.startswith("SELECT"):
                n = len(control.query_selector_all("option"))
                start = int(control.evaluate("e => +e.value"))
                steps = [("select", k) for k in list(range(n)) * 2 + [start]]
            for step in steps:
                before = root.evaluate(CANVAS_HASH)
                if isinstance(step, tuple):
                    control.select_option(str(step[1]))
                else:
                    page.keyboard.press(step)
                moves += 1
                changed += root.evaluate(CANVAS_HASH) != before
    page.wait_for_timeout(300)  # the last animation frames
    times = [t for r in roots for t in page.evaluate("r => r.clStats.moves", r)]
    weight = sum(Path(u[len("file://"):]).stat().st_size for u in local if
                 Path(u[len("file://"):]).is_file())
    page.close()
    return {"weight": weight, "first": first, "times": times, "moves": moves,
            "changed": changed, "errors": errors, "offsite": offsite, "explorers": len(roots)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*", help="built HTML pages (default: a recorded demo)")
    parser.add_argument("--notebook", help="record this notebook's `explorer` instead")
    args = parser.parse_args()
    pages, record_info = [Path(p) for p in args.pages], {}
    if not pages:
        page, seconds, size = recorded_page(args.notebook)
        pages = [page]
        record_info[page] = (seconds, size)
    ok = True
    with sync_playwright() as p:
        browser = launch(p)
        print(f"{'page':<44} {'weight MB':>9} {'first ms':>8} {'moves':>6} {'redrawn':>7} "
              f"{'median ms':>9} {'p95 ms':>7} {'worst ms':>8}  errors offsite")
        for path in pages:
            r = drive(browser, path)
            t = r["times"] or [float("nan")]
            median, worst = statistics.median(t), max(t)
            p95 = sorted(t)[int(0.95 * (len(t) - 1))]
            redrawn = r["changed"] / max(1, r["moves"])
            good = (median < MEDIAN_BUDGET and worst < WORST_BUDGET and not r["errors"]
                    and not r["offsite"] and redrawn >= 0.7 and r["explorers"] > 0)
            ok &= good
            name = path.name if path in record_info else str(path)[-44:]
            print(f"{name:<44} {r['weight'] / 1e6:>9.3f} {r['first']:>8.0f} {r['moves']:>6} "
                  f"{redrawn:>7.0%} {median:>9.1f} {p95:>7.1f} {worst:>8.1f}  "
                  f"{len(r['errors']):>6} {len(r['offsite']):>7}  {'ok' if good else 'MISSED'}")
            for e in r["errors"][:5]:
                print("   page error:", e)
            for u in r["offsite"][:5]:
                print("   blocked request:", u)
        browser.close()
    print(f"targets: median < {MEDIAN_BUDGET:g} ms, worst < {WORST_BUDGET:g} ms, >= 70% of "
          "moves redraw, no page errors, no request off the machine")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
