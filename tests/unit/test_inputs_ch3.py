"""Chapter 3's explorer answers bad input with a clear message, not a traceback.

The bad-input demonstrations used to be loops in the chapters; they live here so the
chapters show only the previews that teach. Each test runs its chapter's code cells
up to the explorer and asks the real explorer for bad settings.
One function per chapter (the `chapter_explorer` fixture, tests/conftest.py).
"""


def test_ch3_inputs(chapter_explorer):
    explorer, one_d = chapter_explorer("03-broadcast-regression", "ONE_D")

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
