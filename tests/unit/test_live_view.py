import importlib.util
import itertools
import sys

import numpy as np
import pytest
from test_recording import CONTROLS, explorer, setup

import convergence_lab as cl
from convergence_lab import live_view, recording
from convergence_lab.recording.format import unpack_raw

# The fallback tests run without anywidget too (as under Colab's pins, where it is absent).
needs_anywidget = pytest.mark.skipif(importlib.util.find_spec("anywidget") is None,
                                     reason="anywidget is not installed")


def resolved(meta, rows, arrays):
    """A frame's rows with their tables' items in place of indices (comparable across
    tables): lines as (style, xs, ys, starts), texts as (style, text, x, y)."""
    out = []
    for style, a, b, c in np.asarray(rows).reshape(-1, 4).tolist():
        if style < 0:
            out.append(None)
        elif meta["styles"][style]["k"] == "line":
            out.append((meta["styles"][style], arrays[a].tolist(), arrays[b].tolist(),
                        None if c < 0 else arrays[c].tolist()))
        else:
            out.append((meta["styles"][style], meta["texts"][a], b, c))
    return out


def sent(widget):
    d = unpack_raw(widget.frame)
    assert d["meta"]["n_frames"] == 1 and d["meta"]["controls"] == []
    return d


@needs_anywidget
def test_frames_sent_are_the_recorded_frames_at_every_setting():
    ex = explorer()
    rec = recording.decode(recording.record(ex, name="small").html)
    meta = rec["meta"]
    view = live_view.live_figure(ex)
    grids = recording.web_grids(ex)
    names = [c["name"] for c in meta["controls"]]
    settings = list(itertools.product(*(grids[n] for n in names)))
    assert len(settings) == len(rec["combos"]) > 20
    messages = 0
    for k, values in enumerate(settings):
        message = ex.apply(dict(zip(names, values, strict=True)))
        messages += bool(message)
        view.show(message)
        live = sent(view.widget)
        assert live["meta"]["w"] == meta["w"] and live["meta"]["h"] == meta["h"]
        assert live["meta"]["q"] == meta["q"]
        assert resolved(live["meta"], live["frames"][0], live["arrays"]) == resolved(
            meta, rec["frames"][rec["combos"][k]], rec["arrays"]), values
    assert messages  # the refused settings (n = 3 with the flag) were compared too


@needs_anywidget
def test_the_background_is_the_recordings():
    import base64
    import re

    ex = explorer()
    html = recording.record(ex, name="small").html
    bg = re.search(r'class="cl-bg">([^<]*)<', html).group(1)
    assert live_view.live_figure(ex).widget.background == base64.b64decode(bg)


def test_the_esm_is_the_package_renderer_with_a_render_export():
    code = live_view.esm()
    assert "function drawFrame(" in code and "export default { render };" in code
    assert "http://" not in code.replace("http://www.w3.org", "")
    assert "https://" not in code and "import(" not in code


@needs_anywidget
def test_widgets_use_the_live_view_then_drop_the_png_once_it_is_drawn():
    ex = explorer()
    box = ex.widgets(live_image=True)
    view, image = box.children[-2:]
    assert type(view).__name__ == "LiveView" and type(image).__name__ == "Image"
    first = view.frame
    assert first and resolved(**_parts(first)) == resolved(**_parts(_frame_at(ex, {})))
    slider = box.children[1]  # n
    slider.value = 7  # not drawn by a browser yet: both the PNG and the frame move
    assert view.frame != first and image.value == ex.png()
    view.ready = True  # what the browser's render() reports
    assert image.layout.display == "none"
    png = image.value
    slider.value = 9
    assert image.value == png  # no PNG per move any more
    assert resolved(**_parts(view.frame)) == resolved(**_parts(_frame_at(ex, {"n": 9})))
    assert ex.values["n"] == 9 and ex.message == ""


def _parts(data):
    d = unpack_raw(data)
    return {"meta": d["meta"], "rows": d["frames"][0], "arrays": d["arrays"]}


def _frame_at(ex, values):
    fresh = explorer()
    return recording.FrameEncoder(fresh).one_frame_recording(
        fresh.apply({**ex.values, **values}))


@needs_anywidget
def test_a_refused_setting_sends_the_message_frame():
    ex = explorer()
    box = ex.widgets(live_image=True)
    box.children[-2].ready = True
    box.children[1].value = 3
    box.children[2].value = True  # n = 3 with the flag: refused on purpose
    d = sent(box.children[-2])
    rows = d["frames"][0]
    assert (rows[:-1] == -1).all()
    assert d["meta"]["texts"][rows[-1][1]].startswith("n = 3 with the flag")


@needs_anywidget
def test_a_broken_setting_gives_the_message_frame_not_a_traceback():
    def draw(art, lr, n, flag=False):
        if n == 4:
            raise ZeroDivisionError("boom")
        art["line"].set_data([0, 1], [0, n])

    ex = cl.Explorer(setup, draw, CONTROLS, layout=(1, 1), figsize=(4, 3))
    box = ex.widgets(live_image=True)
    box.children[-2].ready = True
    box.children[1].value = 4
    d = sent(box.children[-2])
    rows = d["frames"][0]
    assert (rows[:-1] == -1).all()
    assert d["meta"]["texts"][rows[-1][1]] == "This setting broke the explorer: boom"
    box.children[1].value = 6  # and the next good setting draws again
    rows = sent(box.children[-2])["frames"][0]
    assert rows[0][0] >= 0 and rows[-1][0] == -1


def test_without_anywidget_the_png_image_is_the_figure(monkeypatch):
    monkeypatch.setitem(sys.modules, "anywidget", None)  # `import anywidget` fails
    assert "anywidget is not installed" in live_view.fallback_reason()
    ex = explorer()
    assert live_view.live_figure(ex) is None
    box = ex.widgets(live_image=True)
    assert [type(c).__name__ for c in box.children[-2:]] == ["Checkbox", "Image"]
    png = box.children[-1].value
    box.children[1].value = 8
    assert box.children[-1].value != png  # the PNG path as before


def test_in_colab_the_png_image_is_the_figure_without_importing_anywidget(monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", object())
    monkeypatch.setitem(sys.modules, "anywidget", None)
    assert live_view.fallback_reason().startswith("Google Colab")
    box = explorer().widgets(live_image=True)
    assert type(box.children[-1]).__name__ == "Image"
    assert not any(type(c).__name__ == "LiveView" for c in box.children)
