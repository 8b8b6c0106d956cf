"""Bad input to a chapter's explorer gives a clear message, never a traceback.

One function per chapter. The chapters show one preview that teaches; the loops over
bad values live here, so the chapters' visible code stays the lesson.
"""


def test_ch2_inputs(chapter_explorer):
    # The chapter's own explorer (tests/conftest.py: the notebook's cells up to it).
    explorer = chapter_explorer("02-xor-numpy-vs-pytorch")
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
