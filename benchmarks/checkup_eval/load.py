"""Import the evaluation set's case files and return its cases.

The main set is every cases_*.py beside this file. The held-out set
(benchmarks/checkup_holdout/, names "ho-") was written after the rules were settled,
by a reviewer who had not read them, to measure them on cases no rule was tuned on.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from .common import CASES, Case


def load_cases(holdout: bool = False) -> dict[str, Case]:
    for path in sorted(Path(__file__).parent.glob("cases_*.py")):
        importlib.import_module(f"{__package__}.{path.stem}")
    if holdout:
        importlib.import_module("benchmarks.checkup_holdout.cases_holdout")
    return {n: c for n, c in CASES.items() if n.startswith("ho-") == holdout}
