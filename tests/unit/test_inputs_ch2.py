"""Bad input to a chapter's explorer gives a clear message, never a traceback.

One function per chapter. The chapters show one preview that teaches; the loops over
bad values live here, so the chapters' visible code stays the lesson.
"""

import contextlib
import io
import warnings

import matplotlib
import nbformat
from conftest import ROOT


def test_ch2_inputs():
    # The chapter's own explorer: run its code cells, up to the one that builds the
    # explorer, in one namespace (the Colab install cell is skipped).
    path = ROOT / "book/02-xor-numpy-vs-pytorch/xor_numpy_vs_pytorch.ipynb"
    cells = [c.source for c in nbformat.read(path, as_version=4).cells
             if c.cell_type == "code"][1:]
    upto = next(i for i, src in enumerate(cells) if "cl.Explorer(" in src)
    matplotlib.use("agg")
    namespace = {}
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore", UserWarning)  # plt.show() under agg
        for src in cells[:upto + 1]:
            exec(compile(src, str(path), "exec"), namespace)
    explorer = namespace["explorer"]
    refused = [
        ("lr", 0, "must be a finite number above 0"),
        ("lr", -0.3, "must be a finite number above 0"),
        ("lr", float("nan"), "must be a finite number above 0"),
        ("lr", 0.25, "0.25 is not one of them"),  # between grid points
        ("lr", 50.0, "50 is not one of them"),  # beyond the grid
        ("n", 12, "samples n must be one of 4, 8, 16, 32; got 12"),
        ("hidden", 0, "hidden size must be one of 2, 3, 5, 8; got 0"),
        ("init", "zeros", "init must be one of"),
        ("rule", "3 x", "PyTorch lr must be one of"),
        ("learning_rate", 0.3, "Unknown setting"),
    ]
    for key, value, words in refused:
        explorer.render(**{key: value})
        assert words in explorer.message, (key, value, explorer.message)
    # The far corner of what the controls offer still draws curves, no message.
    explorer.render(lr=1.2, n=32, rule="n/2 x lr (derived)", hidden=8, bias=True)
    assert explorer.message == ""
