"""Measure checkup on the evaluation set, as the diagnosis papers report it.

    python -m benchmarks.checkup_eval.run [--holdout] [--json FILE] [NAME ...]

For every case: checkup's findings and time, and one epoch of the setup's own
training timed on the same thread count. Prints per-code recall on the bugs, the
false-error and false-warning rates on the healthy setups, what each bad input got,
and the CPU time per setup (one thread). ``evaluate()`` returns the same numbers for
``benchmarks/bench_checkup.py``.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import warnings
from collections import defaultdict

import torch

import convergence_lab as cl

from .common import standard_epoch
from .load import load_cases


def _epoch_time(case) -> float | None:
    setup = case.build()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.process_time()
            standard_epoch(setup)
            return time.process_time() - start
    except Exception:  # noqa: BLE001 - a broken setup may not train at all
        return None


def run_case(case) -> dict:
    setup = case.build()
    start = time.process_time()
    error = report = None
    try:
        report = cl.checkup(setup.model, setup.loss_fn, setup.optimizer, setup.data,
                            setup.train_step)
    except cl.LessonInputError as exc:
        error = ("LessonInputError", str(exc))
    except Exception as exc:  # noqa: BLE001 - a raw traceback is a defect to report
        error = (type(exc).__name__, str(exc))
    took = time.process_time() - start
    row = {"name": case.name, "kind": case.kind, "source": case.source, "seconds": took,
           "error": error, "epoch_seconds": None}
    if report is not None:
        row["findings"] = [(f.code, f.severity) for f in report.findings]
        row["text"] = str(report)
    if case.kind == "bug":
        row["expect"] = case.expect
        row["hit"] = report is not None and case.expect in report.codes
    elif case.kind == "healthy":
        row["errors"] = [c for c, s in row.get("findings", []) if s == "error"]
        row["warnings"] = [c for c, s in row.get("findings", []) if s == "warning"]
        row["hit"] = error is None and not row["errors"]
    else:
        words = tuple(case.expect)
        row["expect"] = words
        row["hit"] = (error is not None and error[0] == "LessonInputError"
                      and any(w in error[1].lower() for w in words))
    if case.kind != "bad-input":
        row["epoch_seconds"] = _epoch_time(case)
    return row


def evaluate(names=(), holdout=False) -> list[dict]:
    torch.set_num_threads(1)
    cases = load_cases(holdout)
    return [run_case(c) for c in cases.values() if not names or c.name in names]


def summary(rows) -> dict:
    bugs = [r for r in rows if r["kind"] == "bug"]
    healthy = [r for r in rows if r["kind"] == "healthy"]
    bad = [r for r in rows if r["kind"] == "bad-input"]
    per_code = defaultdict(lambda: [0, 0])
    for r in bugs:
        per_code[r["expect"]][0] += r["hit"]
        per_code[r["expect"]][1] += 1
    times = [r["seconds"] for r in rows if r["kind"] != "bad-input"]
    ratios = [r["seconds"] / r["epoch_seconds"] for r in rows
              if r.get("epoch_seconds")]
    return {
        "bugs": len(bugs), "bugs_found": sum(r["hit"] for r in bugs),
        "per_code": dict(sorted(per_code.items())),
        "healthy": len(healthy),
        "healthy_false_error": sum(bool(r["errors"]) or r["error"] is not None
                                   for r in healthy),
        "healthy_false_warning": sum(bool(r["warnings"]) for r in healthy),
        "bad_inputs": len(bad), "bad_inputs_clear": sum(r["hit"] for r in bad),
        "median_seconds": statistics.median(times) if times else 0.0,
        "worst_seconds": max(times) if times else 0.0,
        "median_epochs": statistics.median(ratios) if ratios else 0.0,
        "worst_epochs": max(ratios) if ratios else 0.0,
    }


def print_setups(rows) -> None:
    """One line per setup: checkup's CPU time, and as a multiple of one epoch."""
    print(f"{'setup':52s} {'kind':9s} checkup  epochs  codes")
    for r in rows:
        epochs = (f"{r['seconds'] / r['epoch_seconds']:6.1f}" if r.get("epoch_seconds")
                  else "     -")
        codes = [c for c, _ in r.get("findings", [])] if r["error"] is None else "refused"
        print(f"{r['name']:52s} {r['kind']:9s} {r['seconds']:6.2f}s {epochs}  {codes}")


def print_report(rows, s) -> None:
    print(f"{'code':30s} found / bugs")
    for code, (hit, n) in s["per_code"].items():
        print(f"{code:30s} {hit:2d} / {n:2d}")
    print(f"bugs found with the right code: {s['bugs_found']} / {s['bugs']} "
          f"({s['bugs_found'] / max(1, s['bugs']):.0%})")
    print(f"healthy setups with an error: {s['healthy_false_error']} / {s['healthy']}; "
          f"with a warning: {s['healthy_false_warning']} / {s['healthy']}")
    print(f"bad inputs refused with a clear LessonInputError: {s['bad_inputs_clear']} / "
          f"{s['bad_inputs']}")
    print(f"time per setup: median {s['median_seconds']:.2f} s, worst "
          f"{s['worst_seconds']:.2f} s; as epochs of the setup's own training: median "
          f"{s['median_epochs']:.1f}, worst {s['worst_epochs']:.1f}")
    for r in rows:
        bad = not r["hit"] or (r["kind"] == "healthy" and r.get("warnings"))
        if bad:
            what = r.get("findings") if r["error"] is None else r["error"]
            print(f"  {'MISS' if not r['hit'] else 'warn'} {r['kind']:9s} {r['name']}: "
                  f"expected {r.get('expect')}, got {what}")


def main(argv) -> int:
    out, holdout = None, "--holdout" in argv
    argv = [a for a in argv if a != "--holdout"]
    if argv[:1] == ["--json"]:
        out, argv = argv[1], argv[2:]
    rows = evaluate(argv, holdout)
    s = summary(rows)
    print_setups(rows)
    print_report(rows, s)
    if out:
        with open(out, "w") as f:
            json.dump({"summary": s, "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
