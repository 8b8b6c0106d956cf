"""An npm package's files, fetched from the registry with `npm pack` (no npm project).

tools/vendor_axe.py and tools/vendor_katex.py copy what the site and its tests need
out of ``unpacked(name, version)``: the package's folder in a temporary directory.
"""

from __future__ import annotations

import contextlib
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def unpacked(name: str, version: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", f"{name}@{version}", "--silent"],
                       cwd=tmp, check=True, capture_output=True)
        (tarball,) = Path(tmp).glob("*.tgz")
        with tarfile.open(tarball) as tar:
            tar.extractall(tmp, filter="data")
        yield Path(tmp) / "package"
