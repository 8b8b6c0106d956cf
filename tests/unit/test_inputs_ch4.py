"""Chapter 4's explorer answers bad input with a clear message, not a traceback.

The chapters keep only the previews that teach (a divergence, say); the full
bad-input checks live here, one function per chapter, on the chapter's own explorer.
"""


def test_ch4_inputs(chapter_explorer):
    """Chapter 'loss-floor': its explorer, built by the notebook's own cells."""
    explorer = chapter_explorer("04-loss-floor")

    expected = {
        (("lr", 0),): "learning rate must be a finite number above 0",
        (("lr", float("nan")),): "learning rate must be a finite number",
        (("lr", "fast"),): "learning rate must be a number",
        (("lr", 0.005),): "learning rate",  # between grid points
        (("batch_size", 1000), ("n_samples", 100)):
            "A batch of 1000 is larger than the 100 samples",
        (("batch_size", 7),): "batch size must be one of 1, 10, 100, 1000",
        (("noise", 0.5),): "noise std must be one of",
        (("epochs", 0),): "epochs must be at least 1",
        (("epochs", 2.5),): "epochs",
        (("epochs", 400),): "At most 300 epochs, got 400",
    }
    for bad, says in expected.items():
        explorer.render(**dict(bad))
        assert says in explorer.message, (bad, explorer.message)

    # A diverging rate is drawn, and marked as such.
    explorer.render(lr=3.0)
    assert explorer.message == ""
    assert explorer.artists["verdict"].get_text().startswith("DIVERGED in epoch")
    # A good setting draws without a message or a verdict.
    explorer.render(lr=0.03, batch_size=100, noise=1.0, n_samples=10_000,
                    epochs=300)
    assert explorer.message == "" and explorer.artists["verdict"].get_text() == ""
