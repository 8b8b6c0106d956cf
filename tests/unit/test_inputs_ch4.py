"""Chapter 4's explorer answers bad input with a clear message, not a traceback.

The chapters keep only the previews that teach (a divergence, say); the full
bad-input checks live here, one function per chapter, on the chapter's own explorer.
"""

import ast

import matplotlib
import nbformat
from conftest import ROOT

matplotlib.use("Agg")


def test_ch4_inputs():
    """Chapter 'loss-floor': build its explorer from the notebook's own code.

    Runs the imports, the data cell and the folded cells that build the explorer
    (tagged `plumbing`, drawing no figure), plus the function definitions of the cells between them
    (`least_squares`), but not the chapter's slow training runs.
    """
    nb = nbformat.read(ROOT / "book/04-loss-floor/loss_floor.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"][1:]  # no Colab cell
    built = next(i for i, c in enumerate(code) if "cl.Explorer(" in c.source)
    ns = {}
    for i, cell in enumerate(code[:built + 1]):
        tree = ast.parse(cell.source)
        wiring = ("plumbing" in cell.metadata.get("tags", [])
                  and "plt." not in cell.source)  # not a folded figure
        if i <= 1 or wiring:
            exec(compile(tree, f"loss_floor cell {i + 1}", "exec"), ns)
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                try:  # a default may name a value of a skipped cell: not needed
                    exec(compile(ast.Module([node], []), "def", "exec"), ns)
                except NameError:
                    pass
    explorer = ns["explorer"]

    expected = {
        (("lr", 0),): "learning rate must be a finite number above 0",
        (("lr", float("nan")),): "learning rate must be a finite number",
        (("lr", "fast"),): "learning rate must be a number",
        (("lr", 0.005),): "learning rate",  # between grid points
        (("batch_size", 1000), ("n_samples", 100)):
            "A batch of 1000 is larger than the 100 samples",
        (("batch_size", 7),): "batch size must be one of 1, 10, 100, 1000",
        (("noise", 0.5),): "noise std must be one of",
        (("epochs", 0),): "epochs must be at least 1",
        (("epochs", 2.5),): "epochs",
        (("epochs", 400),): "At most 300 epochs, got 400",
    }
    for bad, says in expected.items():
        explorer.render(**dict(bad))
        assert says in explorer.message, (bad, explorer.message)

    # A diverging rate is drawn, and marked as such.
    explorer.render(lr=3.0)
    assert explorer.message == ""
    assert explorer.artists["verdict"].get_text().startswith("DIVERGED in epoch")
    # A good setting draws without a message or a verdict.
    explorer.render(lr=0.03, batch_size=100, noise=1.0, n_samples=10_000,
                    epochs=300)
    assert explorer.message == "" and explorer.artists["verdict"].get_text() == ""
