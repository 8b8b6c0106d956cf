import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
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
