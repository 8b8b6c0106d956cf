import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = str(Path(sys.executable).with_name("jupyter-book"))
# Debian's chromium (.ci/run installs it), else a Chrome already on the machine
# (GitHub's runners have one). Never `playwright install`: it downloads a browser.
BROWSERS = ("chromium", "google-chrome", "chromium-browser")
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run"]
# The project's tools (tools/*.py) are scripts, not a package; tests import them.
sys.path.insert(0, str(ROOT / "tools"))


def book_notebooks():
    found = (ROOT / "book").rglob("*.ipynb")
    return sorted(p for p in found if ".ipynb_checkpoints" not in p.parts)


@pytest.fixture(scope="session")
def config():
    return yaml.safe_load((ROOT / "_config.yml").read_text())


@pytest.fixture(scope="session")
def toc():
    return yaml.safe_load((ROOT / "_toc.yml").read_text())


def load(path):
    return nbformat.read(path, as_version=4)


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The website, built once per session as `make book` builds it (warnings as errors)."""
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [JUPYTER_BOOK, "build", str(ROOT), "--path-output", str(out), "--all",
         "--warningiserror", "--nitpick", "--keep-going"],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "WARNING" not in proc.stdout + proc.stderr
    return out / "_build" / "html"


def chromium_path():
    """The browser the site tests drive: $CHROMIUM, or the first of BROWSERS on PATH."""
    found = [os.environ.get("CHROMIUM")] + [shutil.which(name) for name in BROWSERS]
    return next((p for p in found if p), None)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Overrides pytest-playwright's fixture: launch the system's Chromium.
    path = chromium_path()
    if path is None:
        pytest.fail("no Chromium found: apt-get install chromium (.ci/run does), "
                    "or set CHROMIUM to a Chrome or Chromium binary")
    return {**browser_type_launch_args, "executable_path": path, "args": BROWSER_ARGS}
