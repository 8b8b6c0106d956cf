"""The website explorer in a real browser: headless Chromium (Debian's), offline.

Loads a page holding two recorded explorers by file:// with every other request
aborted, moves every control, and checks the canvas changes, nothing errs, nothing
leaves the machine, and the setting survives a reload through the query string.
"""

import pytest

from convergence_lab import recording
from convergence_lab.recording import CANVAS_HASH_JS

# `browser` is pytest-playwright's, launching the system's Chromium (conftest.py): one
# Playwright per session, so this module shares it with the site tests.
CANVAS = CANVAS_HASH_JS


@pytest.fixture(scope="module")
def page_path(tmp_path_factory):
    from test_recording import explorer

    a = recording.record(explorer(), {"lr": [1e-4, 1e-2, 1.0]}, name="first")
    b = recording.record(explorer(), {"n": [2, 5, 10]}, name="second")
    path = tmp_path_factory.mktemp("site") / "page.html"
    path.write_text('<!doctype html><html><head><meta charset="utf-8"></head><body>'
                    f"<h1>two explorers</h1>{a.html}<p>between</p>{b.html}</body></html>")
    return path


def open_page(browser, url):
    page = browser.new_page()
    page.errors, page.offsite = [], []
    page.on("pageerror", lambda e: page.errors.append(str(e)))

    def route(r):
        if r.request.url.startswith(("file:", "data:", "blob:")):
            r.continue_()
        else:
            page.offsite.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(url)
    page.wait_for_function(
        "[...document.querySelectorAll('.cl-explorer')].every(e => e.dataset.rendered)",
        timeout=20_000)
    return page


def test_every_control_redraws_offline_without_errors(browser, page_path):
    page = open_page(browser, page_path.as_uri())
    roots = page.query_selector_all(".cl-explorer")
    assert len(roots) == 2
    for root in roots:
        assert root.query_selector(".cl-fallback").is_hidden()
        controls = root.query_selector_all("[data-control]")
        assert len(controls) == 3
        for control in controls:
            label = root.query_selector(f"label[for='{control.get_attribute('id')}']")
            assert label is not None and label.inner_text()
            before = root.evaluate(CANVAS)
            control.focus()
            kind = control.evaluate("e => e.type")
            page.keyboard.press(" " if kind == "checkbox" else "End")
            assert root.evaluate(CANVAS) != before, control.get_attribute("id")
            if kind == "range":  # the readout shows the value
                out = root.query_selector(f"output[for='{control.get_attribute('id')}']")
                assert out.inner_text() == control.evaluate("e => e.getAttribute('aria-valuetext')"
                                                            ).split(" ")[-1]
    page.wait_for_timeout(300)
    assert page.errors == [] and page.offsite == []
    times = page.evaluate("[...document.querySelectorAll('.cl-explorer')]"
                          ".flatMap(e => e.clStats.moves)")
    assert len(times) == 6
    page.close()


def test_the_setting_round_trips_through_the_query_string(browser, page_path):
    page = open_page(browser, page_path.as_uri() + "#a-section")
    root = page.query_selector("#cl-second")
    slider = root.query_selector("[data-control=n]")
    slider.focus()
    page.keyboard.press("End")
    root.query_selector("[data-control=flag]").check()
    drawn = root.evaluate(CANVAS)
    page.wait_for_timeout(400)  # the URL is written once moves settle
    url = page.url
    assert "second.n=10" in url and "second.flag=on" in url and url.endswith("#a-section")
    assert "first." not in url  # the other explorer is still at its defaults
    assert root.query_selector(".cl-link").get_attribute("href").endswith(
        url.split("/")[-1])
    page.close()
    again = open_page(browser, url)
    root = again.query_selector("#cl-second")
    assert root.query_selector("[data-control=n]").evaluate("e => e.value") == "2"
    assert root.query_selector("[data-control=flag]").is_checked()
    assert root.evaluate(CANVAS) == drawn
    assert again.errors == [] and again.offsite == []
    again.close()
