"""The browser every browser benchmark drives: Debian's Chromium, headless.

bench_static_explorer.py, bench_site.py and bench_jupyterlab.py launch it through here.
`CHROMIUM=/path/to/chrome` picks another binary, as for the tests. Never
`playwright install`: it downloads a browser build.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from chromium import ARGS, chromium_path  # noqa: E402  (tools/chromium.py: as the tests find it)

CHROMIUM = chromium_path() or "/usr/bin/chromium"


def launch(playwright):
    """Headless Chromium from a started `sync_playwright()`."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
