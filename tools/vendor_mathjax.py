"""Refresh the MathJax copy the website loads, so math is typeset offline.

    python tools/vendor_mathjax.py            # the version pinned below
    python tools/vendor_mathjax.py 3.2.3      # another 3.x release

Sphinx would load MathJax from a CDN, so a reader offline (or on a school network)
sees raw TeX. This fetches the `mathjax` package from the npm registry with
`npm pack` and copies only what the pages load into book/_static/vendor/mathjax/:
the combined TeX+MathML to CommonHTML component (the one Sphinx loads from the CDN
by default), the fonts it loads relative to itself, and the TeX extensions its
autoload pulls in on demand (\\cancel, \\boldsymbol, ...). The speech/explorer
components (a11y/, sre/, about 4 MB) are left out: they load only when a reader
turns them on in MathJax's context menu.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEST = ROOT / "book" / "_static" / "vendor" / "mathjax"
VERSION = "3.2.2"
ENTRY = "tex-mml-chtml.js"
KEEP = [ENTRY, "output/chtml/fonts/woff-v2", "input/tex/extensions"]


def main(argv: list[str]) -> int:
    version = argv[0] if argv else VERSION
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", f"mathjax@{version}", "--silent"],
                       cwd=tmp, check=True, capture_output=True)
        (tarball,) = Path(tmp).glob("mathjax-*.tgz")
        with tarfile.open(tarball) as tar:
            tar.extractall(tmp, filter="data")
        pkg = Path(tmp) / "package"
        if DEST.exists():
            shutil.rmtree(DEST)
        DEST.mkdir(parents=True)
        for rel in KEEP:
            src, dst = pkg / "es5" / rel, DEST / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst)
            else:
                shutil.copy2(src, dst)
        shutil.copy2(pkg / "LICENSE", DEST / "LICENSE")
    (DEST / "README.md").write_text(
        f"MathJax {version} (npm package `mathjax`, Apache-2.0, see LICENSE): the\n"
        f"`es5/{ENTRY}` component with its CommonHTML fonts and TeX extensions,\n"
        "so the website typesets math with no network. Refresh with\n"
        "`python tools/vendor_mathjax.py [VERSION]`; `mathjax_path` in _config.yml\n"
        "points here.\n"
    )
    print(f"MathJax {version} -> {DEST.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
