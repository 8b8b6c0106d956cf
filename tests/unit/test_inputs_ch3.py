"""Chapter 3's explorer answers bad input with a clear message, not a traceback.

The bad-input demonstrations used to be loops in the chapters; they live here so the
chapters show only the previews that teach. Each test runs its chapter's code cells
up to the explorer (nbformat + exec) and asks the real explorer for bad settings.
One function per chapter.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import nbformat

ROOT = Path(__file__).resolve().parents[1]


def chapter_namespace(path: str, until: str) -> dict:
    """Execute a chapter's code cells (not the Colab cell) up to and including
    the first cell containing ``until``; return the resulting namespace."""
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    nb = nbformat.read(ROOT / path, as_version=4)
    namespace: dict = {}
    code = [c for c in nb.cells if c.cell_type == "code"][1:]
    show = plt.show
    plt.show = lambda *args, **kwargs: None  # no figures pile up in a test
    try:
        for cell in code:
            exec(compile(cell.source, f"{path} cell", "exec"), namespace)
            if until in cell.source:
                return namespace
    finally:
        plt.show = show
        plt.close("all")
    raise AssertionError(f"no cell in {path} contains {until!r}")


def test_ch3_inputs():
    ns = chapter_namespace(
        "book/03-broadcast-regression/broadcast_regression.ipynb",
        "explorer = cl.Explorer(")
    explorer, one_d = ns["explorer"], ns["ONE_D"]

    def message(**bad):
        explorer.render(**bad)
        return explorer.message

    assert "must be a finite number above 0" in message(lr=0)
    assert "not one of them" in message(lr=3e-3)
    assert "must be one of 1, 10, 100, 1000" in message(batch_size=20000)
    assert "raises IndexError" in message(init=one_d,
                                          fix="prediction.squeeze(1)")
    # The asker's 1-D weight with the target reshaped: the broadcast is back.
    assert message(init=one_d, fix="target.view(-1, 1)") == ""
    assert "(B, B)" in explorer.artists["title"].get_text()
    # Just above SGD's edge: no overflow in 3000 steps, but marked diverging.
    assert message(optimizer="SGD", lr=1e-4, fix="target.view(-1, 1)") == ""
    assert explorer.artists["verdict"].get_text().startswith("DIVERGING")
