"""The Chromium that the site tests and the PDF build drive (never `playwright install`).

$CHROMIUM if set, else the first of BROWSERS on PATH: Debian's chromium (.ci/run
installs it) or a Chrome already on the machine (GitHub's runners have one).
"""

from __future__ import annotations

import os
import shutil

BROWSERS = ("chromium", "google-chrome", "chromium-browser")
# Requests a page may make offline; any other would leave the machine.
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


def chromium_path() -> str | None:
    found = [os.environ.get("CHROMIUM")] + [shutil.which(name) for name in BROWSERS]
    return next((p for p in found if p), None)
