"""Chapter 1's explorer answers bad input with a clear message, not a traceback.

The chapters show one preview of this (the one that teaches); the full loop over bad
values lives here, on the explorer the notebook builds (the `chapter_explorer` fixture,
tests/conftest.py).
"""


def test_ch1_inputs(chapter_explorer):
    explorer = chapter_explorer("01-sine-parity")
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
