"""Each chapter's website explorer shows what its live explorer draws.

The website's explorer is a recording (convergence_lab.recording); this redraws the
chapter's own explorer, built from its notebook's cells, at settings sampled across
the whole recorded grid and compares (convergence_lab.recording.check_against_live).
"""

import pytest
from conftest import ROOT

from convergence_lab.recording import check_against_live

CHAPTERS = sorted(p.parent.name for p in (ROOT / "book").glob("*/*.ipynb")
                  if "cl.Explorer(" in p.read_text())


def test_the_chapters_with_explorers_are_found():
    assert len(CHAPTERS) >= 4


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_the_recording_shows_what_the_live_explorer_draws(chapter, chapter_explorer):
    result = check_against_live(chapter_explorer(chapter))
    assert result.compared >= 10
    assert str(result) == (f"website recording vs live explorer: the same at "
                           f"{result.compared} sampled settings")
