import base64
import itertools
import math

import numpy as np
import pytest
from matplotlib.lines import Line2D

import convergence_lab as cl
from convergence_lab import LessonInputError, recording
from convergence_lab.recording.clipping import clip_polyline


def setup(axes):
    ax = axes[0]
    ax.set(xlim=(0, 10), ylim=(-1, 100))
    return {"line": ax.plot([], [], marker=".")[0], "title": ax.set_title(" "),
            "mark": ax.axvline(5, color="red", ls="--")}


def draw(art, lr, n, flag=False):
    if n == 3 and flag:
        raise LessonInputError("n = 3 with the flag is refused on purpose.")
    x = np.arange(n)
    art["line"].set_data(x, lr * 100 * x**2)
    art["title"].set_text(f"lr={lr:g} n={n} flag={flag}")
    art["mark"].set_visible(flag)
    art["mark"].set_xdata([n, n])


CONTROLS = {
    "lr": cl.log_slider("learning rate", 1e-2, 1e-4, 1.0, step=0.5, learning_rate=True),
    "n": cl.int_slider("n", 5, 2, 10),
    "flag": cl.toggle("flag"),
}


def explorer(**kwargs):
    return cl.Explorer(setup, draw, CONTROLS, layout=(1, 1), figsize=(4, 3), **kwargs)


@pytest.fixture(scope="module")
def recorded():
    ex = explorer()
    return ex, recording.record(ex, name="small")


def test_web_values_follow_each_kind_of_control():
    assert cl.log_slider("rate", 1e-2, 1e-4, 1.0, step=1).web_values() == pytest.approx(
        [1e-4, 1e-3, 1e-2, 1e-1, 1.0])
    assert cl.int_slider("n", 4, 2, 10, step=2).web_values() == [2, 4, 6, 8, 10]
    assert cl.slider("w", 0.5, 0.0, 1.0, 0.25).web_values() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert cl.choice("c", ["a", "b"], "b").web_values() == ["a", "b"]
    assert cl.toggle("t").web_values() == [False, True]


def test_web_values_override_keeps_the_default_and_refuses_values_off_the_control():
    assert cl.int_slider("n", 5, 2, 10).web_values([2, 10]) == [2, 5, 10]
    assert cl.choice("c", ["a", "b", "c"], "b").web_values(["c"]) == ["c", "b"]
    with pytest.raises(LessonInputError, match="outside the range"):
        cl.int_slider("n", 5, 2, 10).web_values([2, 11])
    with pytest.raises(LessonInputError, match="not an option"):
        cl.choice("c", ["a", "b"], "b").web_values(["z"])
    with pytest.raises(LessonInputError, match="empty"):
        cl.toggle("t").web_values([])


def test_recording_is_one_html_output_with_renderer_data_and_png_fallback(recorded):
    ex, rec = recorded
    assert rec.combinations == 9 * 9 * 2 and rec.grid_sizes == {"lr": 9, "n": 9, "flag": 2}
    assert rec.html.count("<script>") == 1 and "DecompressionStream" in rec.html
    assert 'id="cl-small"' in rec.html and "cl-fallback" in rec.html
    assert "http://" not in rec.html and "https://" not in rec.html  # no CDN, no network
    bundle = rec._repr_mimebundle_()
    assert set(bundle) == {"text/html", "image/png", "text/plain"}
    assert base64.b64decode(bundle["image/png"]) == ex.render()  # the default setting
    assert rec.size == len(rec.html.encode()) < recording.MAX_BYTES


def test_recording_is_byte_identical_across_runs(recorded):
    _, rec = recorded
    assert recording.record(explorer(), name="small").html == rec.html
    # Without a name the id comes from the content, so it is stable too.
    a, b = recording.record(explorer()), recording.record(explorer())
    assert a.html == b.html and a.explorer_id.startswith("ex")


def test_recording_restores_the_live_explorer(recorded):
    ex = explorer()
    before = ex.render()
    recording.record(ex)
    assert ex.render() == before


def _expected(ex, line):
    xy = line.get_transform().transform(line.get_xydata())
    xy[:, 1] = ex.canvas.get_width_height()[1] - xy[:, 1]
    return xy


def test_decoded_recording_matches_draw_for_sampled_settings(recorded):
    """The live explorer and the website show the same thing (within 1/q px)."""
    ex, rec = recorded
    data = recording.decode(rec.html)
    meta, q = data["meta"], data["meta"]["q"]
    names = [c["name"] for c in meta["controls"]]
    grids = {n: CONTROLS[n].web_values() for n in names}
    assert [c["values"] for c in meta["controls"]][2] == ["off", "on"]
    combos = list(itertools.product(*(range(len(grids[n])) for n in names)))
    artists = ex.moving
    for k in range(0, len(combos), 7):
        values = {n: grids[n][i] for n, i in zip(names, combos[k], strict=True)}
        rows = data["frames"][data["combos"][k]]
        try:
            draw(ex.artists, **values)
        except LessonInputError as exc:
            assert all(r[0] < 0 for r in rows[:-1])
            assert meta["texts"][rows[-1][1]].replace("\n", " ") == str(exc)
            continue
        assert rows[-1][0] < 0  # no message
        for artist, row in zip(artists, rows[:-1], strict=True):
            if not artist.get_visible() or (not isinstance(artist, Line2D)
                                            and not artist.get_text().strip()):
                assert row[0] < 0
                continue
            style = meta["styles"][row[0]]
            if isinstance(artist, Line2D):
                xs, ys = data["arrays"][row[1]] / q, data["arrays"][row[2]] / q
                want = _expected(ex, artist)
                box = style["clip"]
                keep = ((want[:, 0] >= box[0] - 4) & (want[:, 0] <= box[2] + 4)
                        & (want[:, 1] >= box[1] - 4) & (want[:, 1] <= box[3] + 4))
                got = np.column_stack([xs, ys])
                # Every point draw() placed inside the axes is recorded, to 1/q px.
                for p in want[keep]:
                    assert np.min(np.abs(got - p).max(axis=1)) <= 0.5 / q + 1e-9
            else:
                assert meta["texts"][row[1]] == artist.get_text()


def test_controls_and_defaults_are_in_the_header(recorded):
    _, rec = recorded
    meta = recording.decode(rec.html)["meta"]
    kinds = {c["name"]: c["kind"] for c in meta["controls"]}
    assert kinds == {"lr": "range", "n": "range", "flag": "checkbox"}
    lr = next(c for c in meta["controls"] if c["name"] == "lr")
    assert lr["values"][lr["default"]] == "0.01" and lr["label"] == "learning rate"


def test_web_grid_override_shrinks_the_recording():
    rec = recording.record(explorer(), {"n": [2, 10], "lr": [1e-4, 1.0]})
    assert rec.grid_sizes == {"lr": 3, "n": 3, "flag": 2}  # defaults kept
    choice_ex = cl.Explorer(setup, lambda art, lr, n, flag, size: draw(art, lr, n, flag),
                            {**CONTROLS, "size": cl.choice("size", [2, 5], 5)},
                            layout=(1, 1), figsize=(4, 3))
    rec = recording.record(choice_ex, {"size": [5], "n": [5], "lr": [1e-2]})
    meta = recording.decode(rec.html)["meta"]
    assert [c["kind"] for c in meta["controls"]] == ["fixed", "fixed", "checkbox", "fixed"]


def test_size_cap_refuses_with_grid_sizes_and_estimate():
    with pytest.raises(LessonInputError, match=r"lr 9 x n 9 x flag 2 = 162 settings") as err:
        recording.record(explorer(), max_bytes=20_000)
    assert "MB, over the 0.0 MB cap" in str(err.value)


def test_size_cap_refuses_a_clearly_too_large_grid_from_a_sample_before_recording():
    def noisy(art, lr, n, flag=False):  # a different line for every setting
        x = np.linspace(0, 10, 500)
        art["line"].set_data(x, np.random.default_rng(int(lr * 1e6) + n).uniform(0, 99, 500))

    ex = cl.Explorer(setup, noisy, CONTROLS, layout=(1, 1), figsize=(4, 3))
    calls = []
    ex.draw = lambda *a, **k: (calls.append(1), noisy(*a, **k))
    with pytest.raises(LessonInputError, match="over the 0.0 MB cap"):
        recording.record(ex, max_bytes=20_000)  # the noise alone is about 0.1 MB
    assert len(calls) <= 25  # the default and the sample only


def test_grids_with_too_many_settings_are_refused_at_once():
    ex = cl.Explorer(setup, draw, {**CONTROLS, "lr": cl.log_slider("rate", 1e-2, 1e-4, 1, 1e-4)},
                     layout=(1, 1), figsize=(4, 3))
    with pytest.raises(LessonInputError, match=r"record \d+ settings \(at most 50000"):
        recording.record(ex, name="huge")


def test_the_default_cap_is_about_one_and_a_half_megabytes():
    assert recording.MAX_BYTES == 1_500_000


def test_bad_arguments_get_clear_messages(recorded):
    ex, _ = recorded
    with pytest.raises(LessonInputError, match="unknown control"):
        recording.record(ex, {"nope": [1]})
    with pytest.raises(LessonInputError, match="short word"):
        recording.record(ex, name="has space")
    with pytest.raises(LessonInputError, match="no recorded explorer"):
        recording.decode("<p>nothing</p>")


def test_only_lines_and_texts_can_be_recorded():
    def setup_patch(axes):
        return {"bar": axes[0].bar([0], [1])[0]}

    ex = cl.Explorer(setup_patch, lambda art, n: None, {"n": cl.int_slider("n", 2, 1, 3)},
                     layout=(1, 1), figsize=(3, 2))
    with pytest.raises(LessonInputError, match="Rectangle is neither"):
        recording.record(ex)


def test_a_diverged_line_is_cut_at_the_axes_not_drawn_as_a_wall():
    box = (0.0, 0.0, 100.0, 100.0)
    n = 50
    y = 50 + (-1.0) ** np.arange(n) * np.exp(np.arange(n))  # huge jumps of both signs
    pts = np.column_stack([np.linspace(0, 100, n), y])
    kept, starts = clip_polyline(pts, box, 4.0)
    # Only the start (inside) and the cut where it leaves the box survive.
    assert len(kept) < 10 and np.isfinite(kept).all()
    assert (kept[:, 1] >= -4).all() and (kept[:, 1] <= 104).all()
    nan_pts = np.array([[0, 0], [10, 10], [np.nan, np.nan], [20, 20], [30, 30.0]])
    kept, starts = clip_polyline(nan_pts, box, 4.0)
    assert starts == [0, 2] and len(kept) == 4  # the NaN breaks the line
    inside = np.array([[1, 1], [2, 2.0]])
    assert clip_polyline(inside, box, 4.0)[0] is inside


def test_a_segment_crossing_the_box_from_outside_is_kept():
    box = (0.0, 0.0, 100.0, 100.0)
    pts = np.array([[-50.0, 50.0], [150.0, 50.0]])  # left of the box to right of it
    kept, starts = clip_polyline(pts, box, 0.0)
    assert np.allclose(kept, [[0, 50], [100, 50]]) and starts == [0]
    dots, _ = clip_polyline(pts, box, 0.0, connect=False)
    assert len(dots) == 0


def test_show_with_web_grid_displays_the_recording_then_live_sliders(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: shown.append(obj))
    ex = explorer(web_grid={"n": [2, 5, 10]}, name="shown")
    ex.show()
    assert isinstance(shown[0], recording.Recording) and shown[0].grid_sizes["n"] == 3
    # The given name, not the last control's, names the recording (and its URL keys).
    assert ex.name == "shown" and shown[0].explorer_id == "shown"
    box = shown[1]
    assert type(box).__name__ == "VBox" and type(box.children[-1]).__name__ == "Image"
    box.children[1].value = 7  # a live slider move updates the figure in the box
    assert box.children[-1].value == ex.render()
    assert ex.recording() is shown[0]  # recorded once


def test_the_explorer_keeps_its_given_name():
    # A loop over the controls once overwrote `name` with the last control's name.
    ex = cl.Explorer(setup, draw, CONTROLS, layout=(1, 1), figsize=(4, 3), name="chapter")
    assert ex.name == "chapter"
    assert recording.record(ex, {"lr": [1e-2], "n": [5]}, name=ex.name).explorer_id == "chapter"


def test_a_log_step_next_to_the_default_is_the_default():
    # 10 ** round(log10(0.03), 4) is 0.029999...: it must not become a second setting.
    control = cl.log_slider("learning rate", 0.3, 0.3 * 2**-2, 0.3 * 2**2, step=0.150515,
                            learning_rate=True)
    values = control.web_values()
    assert sum(math.isclose(v, 0.3, rel_tol=1e-2) for v in values) == 1
    assert 0.3 in values


def test_check_against_live_passes_on_a_true_recording_and_catches_a_changed_draw():
    ex = explorer()
    rec = recording.record(ex)
    result = recording.check_against_live(ex, rec, every=7)
    compared, worst = result
    assert compared == len(range(0, rec.combinations, 7)) and worst <= 0.5 / 8 + 1e-9
    assert str(result) == result.summary() == (
        f"website recording vs live explorer: the same at {compared} sampled settings")
    ex.draw = lambda art, lr, n, flag=False: (draw(art, lr, n, flag),
                                              art["line"].set_ydata(art["line"].get_ydata() + 1))
    with pytest.raises(AssertionError, match="px off"):
        recording.check_against_live(ex, rec, every=7)


def test_frame_encoder_gives_one_frame_with_the_rows_a_recording_stores(recorded):
    ex, rec = recorded
    data = recording.decode(rec.html)
    encoder = recording.FrameEncoder(ex)
    assert (encoder.width, encoder.height, encoder.q) == (
        data["meta"]["w"], data["meta"]["h"], data["meta"]["q"])
    grids = {n: c.web_values() for n, c in CONTROLS.items()}
    for values in [{"lr": 1e-2, "n": 5, "flag": True},
                   {"lr": 1e-4, "n": 3, "flag": True}]:  # the second is refused
        index = [grids[n].index(values[n]) for n in CONTROLS]
        k = int(np.ravel_multi_index(index, [len(g) for g in grids.values()]))
        stored = data["frames"][data["combos"][k]]
        frame = encoder.encode(ex.apply(values))
        assert frame.rows.shape == stored.shape == (len(ex.moving) + 1, 4)
        for row, want in zip(frame.rows, stored, strict=True):
            assert (row[0] < 0) == (want[0] < 0)
            if row[0] < 0:
                continue
            style = frame.styles[row[0]]
            assert style == data["meta"]["styles"][want[0]]
            if style["k"] == "line":  # the same coordinates
                for i in (1, 2):
                    assert np.array_equal(frame.arrays[row[i]], data["arrays"][want[i]])
            else:
                assert frame.texts[row[1]] == data["meta"]["texts"][want[1]]
                assert list(row[2:]) == list(want[2:])
    ex.render()


def test_pack_and_unpack_follow_the_written_layout():
    import json
    import struct
    import zlib

    from convergence_lab.recording import format as fmt

    pool = [np.array([5, 1, 1], dtype="<i2"), np.array([-2], dtype="<i2")]
    frames = [np.array([[0, 0, 1, -1], [-1, -1, -1, -1]], dtype="<i4").tobytes()]
    meta = {"v": 1, "n_arrays": 2, "n_frames": 1, "n_artists": 2, "n_combos": 3}
    blob = fmt.pack(meta, pool, frames, np.array([0, 0, 0], dtype="<i4"))
    raw = zlib.decompress(blob)
    (n,) = struct.unpack("<I", raw[:4])
    assert n % 4 == 0 and json.loads(raw[4:4 + n]) == meta  # n_int32, n_int16 added
    assert meta["n_int32"] == 3 + 8 + 3 and meta["n_int16"] == 4
    assert np.array_equal(np.frombuffer(raw, "<i4", 3, 4 + n), [0, 3, 4])  # offsets
    assert len(raw) == 4 + n + 4 * 14 + 2 * 4
    out = fmt.unpack(blob)
    assert [list(a) for a in out["arrays"]] == [[5, 6, 7], [-2]]  # deltas summed
    assert out["frames"].shape == (1, 2, 4) and list(out["combos"]) == [0, 0, 0]
