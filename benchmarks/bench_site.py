"""Benchmark: every chapter's explorer on the built website, in headless Chromium, offline.

    python benchmarks/bench_site.py                  # builds _build/html first if it is stale
    python benchmarks/bench_site.py --site DIR       # a site built elsewhere, as it is
    python benchmarks/bench_site.py --rounds 3       # drive every control three times over

For each chapter in _toc.yml, opens its page by file:// with every request that is not
a local file aborted (a reader offline) and drives it with bench_static_explorer's
`drive`: every control through all of its values and back (keyboard for sliders and
checkboxes, option picks for dropdowns), each move timed in the page from the input
event's timestamp to the start of the next animation frame after the canvas was drawn.
Reports per chapter, as a markdown table: the page's HTML bytes and its explorer output
bytes, the total bytes it loads (HTML, scripts, styles, fonts), the first render
(navigation start to the first frame with every explorer drawn), the move latency
(median, p95, worst) and the share of moves that redrew the canvas.
Targets (DESIGN.md): median under 16 ms, worst under 50 ms, >= 70% redrawn, no page
error, no request off the machine. Exits 1 if a chapter with an explorer misses one.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml
from bench_static_explorer import MEDIAN_BUDGET, WORST_BUDGET, drive
from browser import launch
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
EXPLORER_DIV = re.compile(r'<div class="cl-explorer".*?</script></div>', re.S)


def chapters() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [c["file"] for part in toc["parts"] if part.get("caption") == "Chapters"
            for c in part["chapters"]]


def builds_explorer(chapter: str) -> bool:
    """Does the chapter's notebook build an Explorer? (Chapter 5, the checkup, does not.)"""
    nb = nbformat.read(ROOT / f"{chapter}.ipynb", as_version=4)
    return any(c.cell_type == "code" and re.search(r"\bExplorer\(", c.source)
               for c in nb.cells)


def stale(site: Path) -> bool:
    """Is a page missing, or older than its notebook or the helper package?"""
    sources = list((ROOT / "src").rglob("*.*")) + [ROOT / "_config.yml", ROOT / "_toc.yml"]
    newest_src = max(p.stat().st_mtime for p in sources)
    for chapter in chapters():
        page, nb = site / f"{chapter}.html", ROOT / f"{chapter}.ipynb"
        if not page.exists() or page.stat().st_mtime < max(nb.stat().st_mtime, newest_src):
            return True
    return False


def build() -> None:
    print("building the site (jupyter-book build, warnings as errors) ...", flush=True)
    jb = Path(sys.executable).with_name("jupyter-book")
    subprocess.run([str(jb), "build", str(ROOT), "--all", "--warningiserror", "--nitpick",
                    "--keep-going"], check=True, stdout=subprocess.DEVNULL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, help="a built site (default: _build/html, "
                        "built or rebuilt first when stale)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="times each control is driven through its values (default 2)")
    args = parser.parse_args()
    site = args.site
    if site is None:
        site = ROOT / "_build" / "html"
        if stale(site):
            build()
    rows, ok = [], True
    with sync_playwright() as p:
        browser = launch(p)
        for chapter in chapters():
            path = site / f"{chapter}.html"
            html = path.read_text(encoding="utf-8")
            explorer_bytes = sum(len(m.group(0).encode()) for m in EXPLORER_DIV.finditer(html))
            if not explorer_bytes:
                rows.append((chapter, len(html.encode()), None))
                continue
            runs = [drive(browser, path) for _ in range(args.rounds)]
            r = {"weight": runs[0]["weight"], "first": statistics.median(x["first"] for x in runs),
                 "times": [t for x in runs for t in x["times"]],
                 "moves": sum(x["moves"] for x in runs),
                 "changed": sum(x["changed"] for x in runs),
                 "errors": [e for x in runs for e in x["errors"]],
                 "offsite": [u for x in runs for u in x["offsite"]],
                 "explorers": runs[0]["explorers"], "explorer_bytes": explorer_bytes,
                 "first_each": [x["first"] for x in runs]}
            rows.append((chapter, len(html.encode()), r))
        browser.close()

    print("\n| chapter | HTML MB | explorer MB | loaded MB | first render ms | moves "
          "| redrawn | median ms | p95 ms | worst ms | errors | off-machine | verdict |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for chapter, html_bytes, r in rows:
        name = Path(chapter).parent.name
        if r is None:
            missing = builds_explorer(chapter)
            ok &= not missing
            verdict = "MISSED: no recording" if missing else "no explorer by design"
            print(f"| {name} | {html_bytes / 1e6:.3f} | - | - | - | - | - | - | - | - | - | - "
                  f"| {verdict} |")
            continue
        t = sorted(r["times"]) or [float("nan")]
        median, worst, p95 = statistics.median(t), t[-1], t[int(0.95 * (len(t) - 1))]
        redrawn = r["changed"] / max(1, r["moves"])
        good = (median < MEDIAN_BUDGET and worst < WORST_BUDGET and redrawn >= 0.7
                and not r["errors"] and not r["offsite"])
        ok &= good
        print(f"| {name} | {html_bytes / 1e6:.3f} | {r['explorer_bytes'] / 1e6:.3f} "
              f"| {r['weight'] / 1e6:.3f} | {r['first']:.0f} | {r['moves']} | {redrawn:.0%} "
              f"| {median:.1f} | {p95:.1f} | {worst:.1f} | {len(r['errors'])} "
              f"| {len(r['offsite'])} | {'ok' if good else 'MISSED'} |")
    print(f"\ntargets: median < {MEDIAN_BUDGET:g} ms, worst < {WORST_BUDGET:g} ms, >= 70% of "
          "moves redraw, no page errors, no request off the machine. First render is the "
          f"median of {args.rounds} page loads.")
    for chapter, _, r in rows:
        for e in (r or {}).get("errors", [])[:5]:
            print(f"{chapter}: page error: {e}")
        for u in (r or {}).get("offsite", [])[:5]:
            print(f"{chapter}: blocked request: {u}")
    if not any(r for _, _, r in rows):
        print("no chapter page holds a recorded explorer")
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
