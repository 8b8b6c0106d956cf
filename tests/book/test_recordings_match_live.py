"""Each chapter's website explorer shows what its live explorer draws.

The website's explorer is a recording (convergence_lab.recording); this redraws the
chapter's own explorer, built from its notebook's cells, at settings sampled across
the whole recorded grid and compares (convergence_lab.recording.check_against_live).
"""

import math

import pytest
from conftest import book_notebooks, explorer_cells

from convergence_lab.recording import check_against_live
from convergence_lab.recording.live_check import web_grids

# Every explorer of every chapter: (chapter, k) for its k-th explorer cell.
EXPLORERS = [(p.parent.name, k) for p in book_notebooks()
             for k in range(len(explorer_cells(p.parent.name)[2]))]
CHAPTERS = sorted({chapter for chapter, _ in EXPLORERS})


def test_the_chapters_with_explorers_are_found():
    assert len(CHAPTERS) >= 4


@pytest.mark.parametrize(("chapter", "which"), EXPLORERS,
                         ids=[f"{ch}-{k}" for ch, k in EXPLORERS])
def test_the_recording_shows_what_the_live_explorer_draws(chapter, which,
                                                          chapter_explorer):
    explorer = chapter_explorer(chapter, which=which)
    settings = math.prod(len(g) for g in web_grids(explorer, explorer.web_grid).values())
    # About every 97th recorded setting, and at least 10 (all of a smaller grid).
    every = max(1, min(97, settings // 10))
    result = check_against_live(explorer, every=every)
    assert result.compared >= min(10, settings)
    assert str(result) == (f"website recording vs live explorer: the same at "
                           f"{result.compared} sampled settings")
