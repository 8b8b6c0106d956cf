"""Import every cases_*.py module beside this file and return the registry."""

from __future__ import annotations

import importlib
from pathlib import Path

from .common import CASES, Case


def load_cases() -> dict[str, Case]:
    for path in sorted(Path(__file__).parent.glob("cases_*.py")):
        importlib.import_module(f"{__package__}.{path.stem}")
    return CASES
