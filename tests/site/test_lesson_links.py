"""Every checkup finding's link resolves to a labelled section of the built site."""

from convergence_lab import CHECKS
from convergence_lab.checkup.checks import SITE


def test_every_code_links_to_a_labelled_section(site):
    for code, (_, link) in CHECKS.items():
        page, _, section = link.removeprefix(SITE).partition("#")
        html = (site / page).read_text(encoding="utf-8")
        assert f'id="{section}"' in html, f"{code}: {link} has no section {section!r}"
