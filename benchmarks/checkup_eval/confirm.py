"""Ground truth by training: does each bug stay broken, each healthy setup converge?

    python -m benchmarks.checkup_eval.confirm [--holdout] [NAME ...]

Runs every case's ``confirm()`` (or the named ones) and prints what it measured.
Exits non-zero when a case does not hold (a "bug" that trains fine, a "healthy"
setup that does not converge): such a case is mislabelled and must be fixed.
"""

from __future__ import annotations

import sys
import time

import torch

from .load import load_cases


def main(names: list[str]) -> int:
    torch.set_num_threads(1)
    holdout = "--holdout" in names
    names = [n for n in names if n != "--holdout"]
    cases = load_cases(holdout)
    chosen = [c for c in cases.values() if not names or c.name in names]
    failed = 0
    for c in chosen:
        if c.kind == "bad-input":
            continue
        if c.confirm is None:
            print(f"MISSING  {c.kind:8s} {c.name}: no confirm()")
            failed += 1
            continue
        start = time.perf_counter()
        holds, text = c.confirm()
        took = time.perf_counter() - start
        failed += not holds
        print(f"{'ok      ' if holds else 'WRONG   '} {c.kind:8s} {c.name} "
              f"({took:.1f} s): {text}")
    print(f"{len(chosen) - failed} of {len(chosen)} hold")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
