"""Refresh the axe-core copy the website's accessibility test injects into each page.

    python tools/vendor_axe.py            # the version pinned below
    python tools/vendor_axe.py 4.15.0     # another release

tests/site/test_site_a11y.py runs axe-core (WCAG 2.0/2.1/2.2 A and AA) in every page
of the built site, offline, so the script must be on disk: this fetches the
`axe-core` package from the npm registry with `npm pack` and keeps `axe.min.js` and
its licence in tests/site/vendor/axe-core/ (tools/npm_package.py).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from npm_package import unpacked

ROOT = Path(__file__).resolve().parents[1]
DEST = ROOT / "tests" / "site" / "vendor" / "axe-core"
VERSION = "4.14.1"


def main(argv: list[str]) -> int:
    version = argv[0] if argv else VERSION
    with unpacked("axe-core", version) as pkg:
        if DEST.exists():
            shutil.rmtree(DEST)
        DEST.mkdir(parents=True)
        shutil.copy2(pkg / "axe.min.js", DEST / "axe.min.js")
        shutil.copy2(pkg / "LICENSE", DEST / "LICENSE")
    (DEST / "README.md").write_text(
        f"axe-core {version} (npm package `axe-core`, MPL-2.0, see LICENSE), injected\n"
        "into the built site's pages by tests/site/test_site_a11y.py, which must run\n"
        "offline. Refresh with `python tools/vendor_axe.py [VERSION]`.\n"
    )
    print(f"axe-core {version} -> {DEST.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
