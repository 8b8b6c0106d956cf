"""Every checkup finding's link resolves to a labelled section of the built site."""

import re

from conftest import ROOT, field_guide_notebooks

from convergence_lab import CHECKS
from convergence_lab.checkup.checks import SITE


def test_every_code_links_to_a_labelled_section(site):
    for code, (_, link) in CHECKS.items():
        page, _, section = link.removeprefix(SITE).partition("#")
        html = (site / page).read_text(encoding="utf-8")
        assert f'id="{section}"' in html, f"{code}: {link} has no section {section!r}"


def test_field_guide_images_say_what_they_show(site):
    # myst-nb falls back to the image's path as its alt text; the guide's figures
    # carry their own (tests/book/test_notebooks.py checks the notebooks).
    pages = [site / nb.relative_to(ROOT).with_suffix(".html")
             for nb in field_guide_notebooks()]
    assert len(pages) >= 5
    for page in pages:
        for alt, src in re.findall(r'<img alt="([^"]*)" src="([^"]*)"',
                                   page.read_text(encoding="utf-8")):
            assert alt and alt != src and not alt.endswith(".png"), f"{page.name}: {src}"
