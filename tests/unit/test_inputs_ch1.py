"""Chapter 1's explorer answers bad input with a clear message, not a traceback.

The chapters show one preview of this (the one that teaches); the full loop over bad
values lives here. Each test rebuilds a chapter's explorer from the notebook's own code:
its set-up cell, the functions defined before the explorer, and the explorer's cell,
without running the chapter's experiments.
"""

import ast

import matplotlib
from conftest import ROOT, load

matplotlib.use("Agg")


def chapter_explorer(path, name):
    """Execute a chapter's set-up, its function definitions and its explorer cell."""
    code = [c.source for c in load(ROOT / path).cells if c.cell_type == "code"]
    setup = next(i for i, src in enumerate(code) if "cl.setup_notebook" in src)
    built = next(i for i, src in enumerate(code) if f'name="{name}"' in src)
    used = {node.id for node in ast.walk(ast.parse(code[built]))
            if isinstance(node, ast.Name)}
    namespace = {}
    exec(code[setup], namespace)
    for src in code[setup + 1:built]:  # the functions the explorer calls
        defs = [node for node in ast.parse(src).body
                if isinstance(node, (ast.FunctionDef, ast.ClassDef))
                and node.name in used]
        exec(compile(ast.Module(defs, type_ignores=[]), path, "exec"), namespace)
    exec(code[built], namespace)
    return namespace["explorer"]


def test_ch1_inputs():
    explorer = chapter_explorer("book/01-sine-parity/sine_parity.ipynb", "ch1")
    for bad in [{"lr": 0}, {"lr": -1e-3}, {"lr": float("nan")}]:
        explorer.render(**bad)
        assert explorer.message.startswith("The learning rate must be a finite "
                                           "number above 0"), (bad, explorer.message)
    for bad in [{"N": 1}, {"N": 0}, {"N": -5}]:
        explorer.render(**bad)
        assert "must be at least 2 (parity needs an even and an odd integer)" in (
            explorer.message), (bad, explorer.message)
    explorer.render(N=2.5)
    assert explorer.message == "The sample range N must be a whole number, got 2.5."
    explorer.render(epochs=0)
    assert explorer.message == "The epochs must be at least 10, got 0."
    explorer.render(lr=1e38)  # too large: no message, a marked divergence
    assert explorer.message == ""
    assert explorer.artists["verdict"].get_text().startswith("DIVERGED after")
    assert explorer.artists["diverged"].get_visible()
    explorer.render()  # and back to a normal run: no marks left
    assert explorer.message == "" and explorer.artists["verdict"].get_text() == ""
    explorer.render(nonsense=1)
    assert explorer.message == "Unknown setting(s): nonsense.", explorer.message
