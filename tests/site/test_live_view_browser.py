"""The live view's ES module draws what the website draws: headless Chromium, offline.

One page holds a recorded explorer and the live view's ESM (convergence_lab.live_view),
imported from a blob: URL as anywidget does, rendered with a stand-in for anywidget's
model holding the frame the kernel would send. At several settings (one refused) the
live canvas must hash the same as the recorded explorer's canvas opened at that setting.
"""

import base64
import itertools
from urllib.parse import urlencode

import pytest

from convergence_lab import live_view, recording
from convergence_lab.recording import CANVAS_HASH_JS

pytest.importorskip("anywidget")

# Imports the ESM, renders it with a minimal model (get/set/save_changes/on/off) into
# #live, then draws each given frame through the model's change:frame handler; returns
# the canvas hash after each, and whether render() reported the view ready.
RENDER = """async ({bg, frames}) => {
  const code = document.getElementById('esm').textContent;
  const mod = await import(URL.createObjectURL(new Blob([code], {type: 'text/javascript'})));
  const view = s => {
    const u = Uint8Array.from(atob(s), c => c.charCodeAt(0));
    return new DataView(u.buffer);
  };
  const state = {background: view(bg), frame: view(frames[0]), ready: false};
  const handlers = {};
  const model = {get: k => state[k], set: (k, v) => { state[k] = v; }, save_changes() {},
                 on: (e, f) => { handlers[e] = f; }, off() {}};
  const el = document.getElementById('live'), hashes = [];
  const hash = __HASH__;
  for (let i = 0; i < frames.length; i++) {
    const drawn = new Promise(ok => el.addEventListener('cl-live-drawn', ok, {once: true}));
    if (i === 0) mod.default.render({model, el});
    else { state.frame = view(frames[i]); handlers['change:frame'](); }
    await drawn;
    hashes.push(hash(el));
  }
  return {hashes, ready: state.ready};
}""".replace("__HASH__", CANVAS_HASH_JS)


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    from test_recording import explorer

    ex = explorer()
    rec = recording.record(ex, name="small")
    meta = recording.decode(rec.html)["meta"]
    esm = live_view.esm()
    assert "</script" not in esm.lower()  # it sits in the page as a script's raw text
    path = tmp_path_factory.mktemp("live") / "page.html"
    path.write_text('<!doctype html><html><head><meta charset="utf-8"></head><body>'
                    f'{rec.html}<div id="live"></div><script type="text/plain" id="esm">'
                    f"{esm}</script></body></html>")
    return ex, meta, path


def settings(meta):
    """A handful of settings (names -> value index), the refused one among them."""
    controls = meta["controls"]
    every = list(itertools.product(*(range(len(c["values"])) for c in controls)))
    picks = every[:: max(1, len(every) // 5)]
    refused = next(s for s in every
                   if controls[1]["values"][s[1]] == "3" and controls[2]["values"][s[2]] == "on")
    return picks + [refused]


def test_the_live_canvas_equals_the_recorded_canvas_at_each_setting(browser, pages):
    from test_recording_browser import open_page

    ex, meta, path = pages
    controls = meta["controls"]
    grids = recording.web_grids(ex)
    encoder = recording.FrameEncoder(ex)
    picked = settings(meta)
    frames, recorded = [], []
    for idx in picked:
        values = {c["name"]: grids[c["name"]][i] for c, i in zip(controls, idx, strict=True)}
        frames.append(base64.b64encode(
            encoder.one_frame_recording(ex.apply(values))).decode())
        query = urlencode({f"small.{c['name']}": c["values"][i]
                           for c, i in zip(controls, idx, strict=True)})
        page = open_page(browser, f"{path.as_uri()}?{query}")
        recorded.append(page.query_selector("#cl-small").evaluate(CANVAS_HASH_JS))
        assert page.errors == [] and page.offsite == []
        page.close()
    assert len(set(recorded)) > 2  # the settings draw different pictures
    page = open_page(browser, path.as_uri())
    bg = base64.b64encode(live_view.live_figure(ex).widget.background).decode()
    result = page.evaluate(RENDER, {"bg": bg, "frames": frames})
    assert result["ready"] is True
    assert result["hashes"] == recorded
    assert page.errors == [] and page.offsite == []
    page.close()
