"""checkup's cost and its diagnostic quality on the evaluation set.

    python benchmarks/bench_checkup.py

1. The evaluation set (benchmarks/checkup_eval/: setups modelled on public reports):
   per-code recall on the bugs, false errors and warnings on the healthy setups, the
   bad inputs, and checkup's time per setup, also as a multiple of one epoch of that
   setup's own training on the same thread count, measured in the same run.
2. A ~1M-parameter CNN and a ~1M-parameter transformer, healthy: checkup's time.
3. How the cost grows: an MLP at 3 widths, and a DataLoader of 10 vs 100 batches.

Exits non-zero when a target is missed: recall under 95%, an error on a healthy setup,
a bad input without a clear LessonInputError, a median over 0.5 s or a worst over 3 s
per setup, or a large model over 10 s. checkup runs torch on one thread, so CPU time
is what it costs even when other jobs share the machine.

    python benchmarks/bench_checkup.py --write-book

also writes the evaluation's summary to book/05-checkup/checkup_evaluation.json, the
file chapter 5's evaluation table is printed from.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks as a package

import convergence_lab as cl  # noqa: E402
from benchmarks.checkup_eval import run as evaluation  # noqa: E402

TARGETS = {"recall": 0.95, "median": 0.5, "worst": 3.0, "large": 10.0}
# The held-out set's first run, before the one rule it showed a gap in was fixed
# (batch-mixing through a path the gradient cannot see): kept as measured.
HOLDOUT_FIRST_RUN = {"bugs_found": 32, "bugs": 34, "healthy_false_error": 0,
                     "healthy_false_warning": 0, "healthy": 14}
BOOK_FILE = Path(__file__).resolve().parents[1] / "book/05-checkup/checkup_evaluation.json"


def timed(model, loss_fn, opt, data, repeats=1):
    times = []
    for _ in range(repeats):
        start = time.process_time()
        report = cl.checkup(model, loss_fn, opt, data)
        times.append(time.process_time() - start)
    return statistics.median(times), report


def cnn():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.BatchNorm2d(128), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(128, 256, 3, padding=1), nn.BatchNorm2d(256), nn.ReLU(),
        nn.Conv2d(256, 256, 3, padding=1), nn.BatchNorm2d(256), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(256, 10))
    g = torch.Generator().manual_seed(0)
    X = torch.randn(1024, 3, 32, 32, generator=g)
    y = (X[:, 0].mean((1, 2)) > 0).long() + 2 * (X[:, 1].mean((1, 2)) > 0).long()
    loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    return model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), 0.05,
                                                           momentum=0.9), loader


class Transformer(nn.Module):
    def __init__(self, vocab=1000, d=128, layers=4):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.zeros(32, d))
        layer = nn.TransformerEncoderLayer(d, 4, 4 * d, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(d, 2)

    def forward(self, t):
        return self.head(self.encoder(self.emb(t) + self.pos[: t.shape[1]]).mean(1))


def transformer():
    torch.manual_seed(0)
    model = Transformer()
    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, 1000, (1024, 32), generator=g)
    y = (tokens < 500).float().mean(1).gt(0.5).long()
    loader = DataLoader(TensorDataset(tokens, y), batch_size=32, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    return model, nn.CrossEntropyLoss(), torch.optim.AdamW(model.parameters(), 3e-4), loader


def mlp_growth(width, batches):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, width), nn.ReLU(), nn.Linear(width, width),
                          nn.ReLU(), nn.Linear(width, 1))
    g = torch.Generator().manual_seed(0)
    X = torch.randn(batches * 32, 20, generator=g)
    y = X[:, :1] ** 2 + X[:, 1:2]
    return model, nn.MSELoss(), torch.optim.Adam(model.parameters(), 1e-3), DataLoader(
        TensorDataset(X, y), batch_size=32, shuffle=True,
        generator=torch.Generator().manual_seed(0))


def main(argv) -> int:
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
               f"torch {torch.__version__}, checkup on 1 thread")
    print(f"machine: {machine}; times are CPU seconds")
    rows = evaluation.evaluate()
    s = evaluation.summary(rows)
    evaluation.print_setups(rows)
    evaluation.print_report(rows, s)
    print("\nheld-out set (benchmarks/checkup_holdout/):")
    held_rows = evaluation.evaluate(holdout=True)
    held = evaluation.summary(held_rows)
    evaluation.print_report(held_rows, held)
    if "--write-book" in argv:
        BOOK_FILE.write_text(json.dumps(
            {"measured": datetime.date.today().isoformat(), "machine": machine,
             "setups": len(rows), **s,
             "holdout": {"setups": len(held_rows), **held,
                         "first_run": HOLDOUT_FIRST_RUN}}, indent=1) + "\n")
    missed = []
    if s["bugs_found"] < TARGETS["recall"] * s["bugs"]:
        missed.append(f"recall {s['bugs_found']}/{s['bugs']} under 95%")
    if s["healthy_false_error"]:
        missed.append(f"{s['healthy_false_error']} healthy setup(s) got an error")
    if s["bad_inputs_clear"] < s["bad_inputs"]:
        missed.append("a bad input without a clear LessonInputError")
    if s["median_seconds"] > TARGETS["median"]:
        missed.append(f"median {s['median_seconds']:.2f} s over 0.5 s")
    if s["worst_seconds"] > TARGETS["worst"]:
        slow = max((r for r in rows if r["kind"] != "bad-input"), key=lambda r: r["seconds"])
        missed.append(f"worst {s['worst_seconds']:.2f} s over 3 s ({slow['name']})")
    print("\nlarge models (healthy), CPU seconds:")
    for name, make in [("CNN", cnn), ("transformer", transformer)]:
        model, loss_fn, opt, data = make()
        n = sum(p.numel() for p in model.parameters())
        took, report = timed(model, loss_fn, opt, data)
        print(f"  {name:12s} {n / 1e6:.2f}M parameters: {took:5.2f} s, codes {report.codes}")
        if took > TARGETS["large"]:
            missed.append(f"{name} {took:.1f} s over 10 s")
    print("\nhow the cost grows (healthy MLP, CPU seconds, median of 3):")
    for width, batches in [(64, 10), (256, 10), (1024, 10), (256, 100)]:
        model, loss_fn, opt, data = mlp_growth(width, batches)
        n = sum(p.numel() for p in model.parameters())
        took, _ = timed(model, loss_fn, opt, data, repeats=3)
        print(f"  width {width:3d} ({n:6d} parameters), {batches:3d} batches: {took:.2f} s")
    print("\n" + ("all targets met" if not missed else "MISSED: " + "; ".join(missed)))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
