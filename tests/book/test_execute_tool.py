"""tools/execute_notebooks.py: what it does to a notebook after running it."""

import importlib.util

import nbformat
from conftest import ROOT

spec = importlib.util.spec_from_file_location(
    "execute_notebooks", ROOT / "tools" / "execute_notebooks.py")
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)

BOX, SLIDER = "ab" * 16, "cd" * 16


def notebook_with_a_widget():
    nb = nbformat.v4.new_notebook()
    out = nbformat.v4.new_output(
        "display_data",
        data={tool.WIDGET_VIEW: {"model_id": BOX, "version_major": 2, "version_minor": 0},
              "text/plain": "VBox(children=...)"})
    nb.cells.append(nbformat.v4.new_code_cell("explorer", outputs=[out]))
    nb.metadata["widgets"] = {tool.WIDGET_STATE: {"state": {
        BOX: {"model_name": "VBoxModel", "state": {"children": [f"IPY_MODEL_{SLIDER}"]}},
        SLIDER: {"model_name": "FloatSliderModel", "state": {"value": 0.1}},
    }, "version_major": 2, "version_minor": 0}}
    return nb


def test_widget_ids_are_numbered_from_the_views_and_the_state_is_dropped():
    nb = notebook_with_a_widget()
    tool.stable_widget_ids(nb)
    tool.drop_widget_state(nb)
    view = nb.cells[0].outputs[0]["data"][tool.WIDGET_VIEW]
    assert view["model_id"] == f"{1:032x}"
    assert "widgets" not in nb.metadata
    nbformat.validate(nb)


def test_dropping_state_of_a_notebook_without_widgets_changes_nothing():
    nb = nbformat.v4.new_notebook()
    before = nbformat.writes(nb)
    tool.stable_widget_ids(nb)
    tool.drop_widget_state(nb)
    assert nbformat.writes(nb) == before
