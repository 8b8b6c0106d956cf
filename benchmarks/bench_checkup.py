"""How long checkup() takes on a small model: the budget is a few seconds on 2 cores.

    python benchmarks/bench_checkup.py

A ~10k-parameter MLP on 4000 samples, healthy and with three bugs (the slow paths:
a learning rate that diverges, a model that cannot fit, a step that accumulates).
Prints the median of 5 runs of each, in wall time and in CPU time: checkup runs
torch on one thread, so its CPU time is what it costs even when other jobs share
the cores and stretch the wall time.
"""

from __future__ import annotations

import statistics
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import convergence_lab as cl


def setup(bug: str):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(4000, 20, generator=g)
    y = torch.sin(X[:, :1]) + X[:, 1:2] ** 2 + 0.1 * torch.randn(4000, 1, generator=g)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 96), nn.ReLU(), nn.Linear(96, 80), nn.ReLU(),
                          nn.Linear(80, 1))
    if bug == "cannot fit":
        model.append(nn.Sigmoid())  # outputs in (0, 1), targets are not
        y = y + 3
    lr = 5.0 if bug == "lr too large" else 1e-2
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True)
    step = None
    if bug == "accumulating step":
        def step(xb, yb):
            loss = nn.functional.mse_loss(model(xb), yb)
            loss.backward()
            opt.step()
            return loss
    return model, nn.MSELoss(), opt, loader, step


def main():
    n_params = sum(p.numel() for p in setup("healthy")[0].parameters())
    print(f"MLP with {n_params} parameters, 4000 samples, batches of 64, "
          f"torch threads {torch.get_num_threads()}")
    for bug in ["healthy", "lr too large", "cannot fit", "accumulating step"]:
        model, loss_fn, opt, loader, step = setup(bug)
        times, cpu = [], []
        for _ in range(5):
            start, start_cpu = time.perf_counter(), time.process_time()
            report = cl.checkup(model, loss_fn, opt, loader, step)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        print(f"{bug:18s} median {statistics.median(times):5.2f} s, "
              f"max {max(times):5.2f} s, CPU median {statistics.median(cpu):5.2f} s  "
              f"codes {report.codes}")


if __name__ == "__main__":
    main()
