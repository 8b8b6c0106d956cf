"""Every chapter's explorer on the built website, in a real browser, offline.

Each chapter page is opened by file:// with every request that would leave the
machine aborted (`open_offline`, as in test_site_browser.py). A chapter whose
notebook builds an `Explorer` must carry its recording on the page; each recorded
explorer must have at least three working, labelled controls; moving every control
through several values, by keyboard and by input events as a reader would, must
redraw the canvas on at least 70% of the moves; nothing may err or leave the machine;
the math is typeset; no control moves sideways when a readout changes; a screen
reader hears what the picture's titles say after a move (an aria-live status, and the
canvas's name); and the setting the explorer writes into the query string must
restore the same controls and the same pixels when the link is opened again.

And at a desktop's width and a phone's: an explorer comes alive without moving the page
(its height when the page's DOM is ready, fallback picture and controls, is its
height with the canvas), and its smallest tick or axis label is at least 9 CSS px
tall (the recording's label size in canvas px times the canvas's displayed scale; on
a phone the panels are stacked).

Timing is not asserted here (a shared CI machine is no stopwatch): the latency
targets are measured by benchmarks/bench_site.py.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from conftest import ROOT
from test_site_browser import CHAPTERS, MATH_JS, VIEWS, open_offline

from convergence_lab.recording import CANVAS_HASH_JS

MIN_CONTROLS = 3  # the issue: every chapter's explorer has at least three working controls
MIN_REDRAWN = 0.7  # share of moves that must change the canvas
RENDERED = "[...document.querySelectorAll('.cl-explorer')].every(e => e.dataset.rendered)"
# A hash of the canvas pixels: equal pictures give equal numbers.
CANVAS = CANVAS_HASH_JS
# Where every control, readout and the link sit: a readout that changes width must not
# push the controls after it (a reader's pointer would miss the slider it was on).
PLACES = """root => {
  const at = root.getBoundingClientRect();  // a focused control may scroll the page
  return [...root.querySelectorAll('.cl-controls > div > *, .cl-link')].map(e => {
    const r = e.getBoundingClientRect();
    return [Math.round(r.left - at.left), Math.round(r.top - at.top), Math.round(r.width)];
  });
}"""
# What a screen reader hears after the last move: the picture's titles (cl-status,
# aria-live), which also start the canvas's name.
SPOKEN = """root => [root.querySelector('.cl-status').textContent,
                     root.querySelector('canvas').getAttribute('aria-label')]"""
STATE = """root => [...root.querySelectorAll('[data-control]')].map(e =>
  [e.dataset.control, e.type === 'checkbox' ? String(e.checked) : String(e.value)])"""

# The query string holds every control's current value (the explorer writes it shortly
# after the last move; every control is away from its default, so every key is there).
URL_SHOWS_STATE = """id => {
  const root = document.getElementById('cl-' + id), p = new URLSearchParams(location.search);
  return [...root.querySelectorAll('input[data-control], select[data-control]')].every(e => {
    const v = p.get(id + '.' + e.dataset.control);
    if (e.type === 'checkbox') return v === (e.checked ? 'on' : 'off');
    if (e.tagName === 'SELECT') return v === e.options[e.selectedIndex].text;
    return v === root.querySelector(`output[for='${e.id}']`).value;
  });
}"""


def notebook_of(rel: str):
    return ROOT / rel.replace(".html", ".ipynb")


def has_explorer_by_design(rel: str) -> bool:
    """Does the chapter's notebook build an Explorer? (Chapter 5, the checkup, does not.)"""
    nb = nbformat.read(notebook_of(rel), as_version=4)
    return any(c.cell_type == "code" and re.search(r"\bExplorer\(", c.source)
               for c in nb.cells)


def moves_for(control) -> list:
    """Several moves through the control's values: keyboard presses and input events."""
    kind = control.evaluate("e => e.tagName === 'SELECT' ? 'select' : e.type")
    if kind == "range":
        top = int(control.get_attribute("max"))
        mid = str(top // 2)
        return [("key", "End"), ("key", "Home"), ("key", "ArrowRight"), ("key", "ArrowRight"),
                ("key", "PageUp"), ("fill", mid), ("fill", str(top)), ("key", "ArrowLeft"),
                ("fill", "0"), ("key", "ArrowUp")]
    if kind == "select":
        n = control.evaluate("e => e.options.length")
        picks = [("select", str(k)) for k in range(n)][-5:]
        return [("select", "0")] + picks + [("key", "ArrowUp"), ("key", "ArrowDown")]
    if kind == "checkbox":
        return [("key", " "), ("key", " "), ("click", None), ("click", None), ("key", " ")]
    return []


def apply(page, control, move) -> None:
    how, arg = move
    if how == "key":
        control.focus()
        page.keyboard.press(arg)
    elif how == "fill":  # sets the value and fires `input`, as dragging the thumb does
        control.fill(arg)
    elif how == "select":
        control.select_option(arg)
    else:
        control.click()


def set_off_default(control, first: str) -> None:
    """Leave the control away from where the page opened it, so the link must carry it."""
    kind = control.evaluate("e => e.tagName === 'SELECT' ? 'select' : e.type")
    if kind == "checkbox":
        control.set_checked(first != "true")
        return
    target = "1" if first == "0" else "0"
    if kind == "range":
        control.fill(target)
    else:
        control.select_option(target)


@pytest.mark.parametrize("rel", CHAPTERS)
def test_chapter_explorer_moves_offline_and_its_link_restores_it(browser, site, rel):
    by_design = has_explorer_by_design(rel)
    html = (site / rel).read_text(encoding="utf-8")
    recorded = 'class="cl-explorer"' in html
    if not by_design:
        assert not recorded, f"{rel}: a recorded explorer, but the notebook builds none"
        pytest.skip(f"{rel}: the chapter has no explorer by design")
    assert recorded, (f"{rel}: the notebook builds an Explorer, but the page holds no "
                      "recording (give it web_grid= so the website's explorer moves)")

    opened = open_offline(browser, site, rel)
    try:
        page = opened.page
        page.wait_for_function(RENDERED, timeout=30_000)
        total, typeset = page.evaluate(MATH_JS)
        assert total > 0 and typeset == total, f"{total - typeset} of {total} not typeset"
        roots = page.query_selector_all(".cl-explorer")
        assert roots
        for root in roots:
            name = root.get_attribute("data-explorer")
            assert root.get_attribute("data-error") is None, root.get_attribute("data-error")
            assert root.query_selector(".cl-fallback").is_hidden()
            assert root.query_selector("canvas").is_visible()
            # The page says what the grid covers.
            assert root.query_selector(".cl-grid-note").is_visible()
            controls = root.query_selector_all(
                "input[data-control], select[data-control]")
            start = root.evaluate(STATE)
            places = root.evaluate(PLACES)
            working, moves, changed = [], 0, 0
            for control in controls:
                cid = control.get_attribute("id")
                label = root.query_selector(f"label[for='{cid}']")
                assert label is not None and label.inner_text().strip(), f"{cid}: no label"
                redrew, by_key = False, False
                for move in moves_for(control):
                    before, at = root.evaluate(CANVAS), root.evaluate(STATE)
                    apply(page, control, move)
                    if root.evaluate(STATE) == at:
                        continue  # already there (an end of the range): not a move
                    moves += 1
                    by_key |= move[0] == "key"
                    assert root.evaluate(PLACES) == places, f"{cid}: {move} moved the controls"
                    if root.evaluate(CANVAS) != before:
                        changed += 1
                        redrew = True
                    readout = root.query_selector(f"output[for='{cid}']")
                    if readout is not None:  # a slider shows the value it stands at
                        assert readout.inner_text().strip(), f"{cid}: empty readout"
                        assert control.get_attribute("aria-valuetext").endswith(
                            readout.inner_text().strip())
                assert by_key, f"{cid}: the keyboard does not move it"
                if redrew:
                    working.append(control.get_attribute("data-control"))
            assert len(working) >= MIN_CONTROLS, f"{name}: working controls {working}"
            page.wait_for_timeout(300)  # the status is written once a burst of moves ends
            status, label = root.evaluate(SPOKEN)
            assert "Setting: " in label, label
            said = label.split("Setting: ")[0].rstrip(". ")
            assert status.strip() and status.rstrip(". ") == said, (status, label)
            assert changed >= MIN_REDRAWN * moves, f"{name}: {changed} of {moves} redrew"

            # The link: every control away from its start, then the URL the explorer writes.
            for control, (_, first) in zip(controls, start, strict=True):
                set_off_default(control, first)
            state, drawn = root.evaluate(STATE), root.evaluate(CANVAS)
            page.wait_for_function(URL_SHOWS_STATE, arg=name, timeout=5_000)
            query = "?" + page.url.split("?", 1)[1].split("#", 1)[0]
            assert root.query_selector(".cl-link").get_attribute("href").split("?")[1] \
                .startswith(query[1:])
            again = open_offline(browser, site, rel, query)
            try:
                again.page.wait_for_function(RENDERED, timeout=30_000)
                copy = again.page.query_selector(f"#cl-{name}")
                assert copy.evaluate(STATE) == state
                assert copy.evaluate(CANVAS) == drawn, f"{name}: the link drew another picture"
                assert again.errors == [] and again.offsite == []
            finally:
                again.close()
        page.wait_for_timeout(200)  # errors from the last frames
        assert opened.errors == []
        assert opened.offsite == []
    finally:
        opened.close()


LEGIBLE_PX = 9  # the smallest tick or axis label, in CSS px, on a 390 px phone
# Each explorer's height when the page's DOM is ready (fallback picture and controls),
# to compare with its height once the canvas has replaced the picture.
FIRST_HEIGHTS = """document.addEventListener('DOMContentLoaded', () => {
    window.clFirstHeights = [...document.querySelectorAll('.cl-explorer')]
        .map(e => e.getBoundingClientRect().height);
});"""
LEGIBILITY = """() => [...document.querySelectorAll('.cl-explorer')].map(root => {
    const data = JSON.parse(root.querySelector('.cl-data').textContent);
    const canvas = root.querySelector('canvas');
    return [root.dataset.explorer, data.label_px * canvas.getBoundingClientRect().width
            / canvas.width, root.getBoundingClientRect().height];
})"""


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("rel", CHAPTERS)
def test_explorer_comes_alive_without_moving_the_page_and_is_legible(browser, site, rel,
                                                                     width):
    if 'class="cl-explorer"' not in (site / rel).read_text(encoding="utf-8"):
        pytest.skip(f"{rel}: no explorer")
    opened = open_offline(browser, site, rel, init_script=FIRST_HEIGHTS,
                          **VIEWS[f"light-{width}"])
    try:
        page = opened.page
        page.wait_for_function(RENDERED, timeout=30_000)
        first = page.evaluate("window.clFirstHeights")
        now = page.evaluate(LEGIBILITY)
        for (name, label_px, height), before in zip(now, first, strict=True):
            assert abs(height - before) <= 1, f"{name}: {before:.0f} px, then {height:.0f}"
            assert label_px >= LEGIBLE_PX, f"{name}: labels {label_px:.1f} px tall"
    finally:
        opened.close()


@pytest.mark.parametrize("rel", CHAPTERS)
def test_a_skip_link_takes_the_keyboard_to_the_explorer(browser, site, rel):
    if 'class="cl-explorer"' not in (site / rel).read_text(encoding="utf-8"):
        pytest.skip(f"{rel}: no explorer")
    opened = open_offline(browser, site, rel)
    try:
        page = opened.page
        page.wait_for_function(RENDERED, timeout=30_000)
        page.keyboard.press("Tab")  # the theme's "Skip to main content"
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to the explorer"
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        assert page.evaluate("!!document.activeElement.closest('.cl-explorer')")
    finally:
        opened.close()
