"""Refresh the KaTeX stylesheet and fonts the website loads, so math is typeset offline.

    python tools/vendor_katex.py            # the version sphinxcontrib-katex bundles
    python tools/vendor_katex.py 0.16.22    # another release (match the bundled script)

sphinxcontrib-katex copies its own `katex.min.js` and auto-renderer into the site but
links KaTeX's stylesheet, and through it the fonts, from a CDN, so a reader offline
(or on a school network) would see unstyled math. This fetches the `katex` package
from the npm registry with `npm pack` and copies `katex.min.css` with its WOFF2 fonts
(every browser the site supports reads WOFF2; the stylesheet names it first) into
book/_static/vendor/katex/; `katex_css_path` in _config.yml points there.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from npm_package import unpacked

ROOT = Path(__file__).resolve().parents[1]
DEST = ROOT / "book" / "_static" / "vendor" / "katex"


def bundled_version() -> str:
    from sphinxcontrib import katex

    return katex.katex_version


def main(argv: list[str]) -> int:
    version = argv[0] if argv else bundled_version()
    with unpacked("katex", version) as pkg:
        dist = pkg / "dist"
        if DEST.exists():
            shutil.rmtree(DEST)
        (DEST / "fonts").mkdir(parents=True)
        shutil.copy2(dist / "katex.min.css", DEST / "katex.min.css")
        for font in (dist / "fonts").glob("*.woff2"):
            shutil.copy2(font, DEST / "fonts" / font.name)
        shutil.copy2(pkg / "LICENSE", DEST / "LICENSE")
    (DEST / "README.md").write_text(
        f"KaTeX {version} (npm package `katex`, MIT, see LICENSE): `dist/katex.min.css`\n"
        "and its WOFF2 fonts, so the website typesets math with no network (the script\n"
        "itself comes with sphinxcontrib-katex). Refresh with\n"
        "`python tools/vendor_katex.py [VERSION]`; `katex_css_path` in _config.yml\n"
        "points here.\n"
    )
    print(f"KaTeX {version} (stylesheet, fonts) -> {DEST.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
