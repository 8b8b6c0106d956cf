"""The browser every browser benchmark drives: Debian's Chromium, headless.

bench_static_explorer.py, bench_site.py and bench_jupyterlab.py launch it through here.
`CHROMIUM=/path/to/chrome` picks another binary, as for the tests. Never
`playwright install`: it downloads a browser build.
"""

from __future__ import annotations

import os

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


def launch(playwright):
    """Headless Chromium from a started `sync_playwright()`."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
