"""Run every chapter with Colab's package versions: does the book still work there?

    python3 tools/colab_check.py                 # every notebook under book/
    python3 tools/colab_check.py PATH ...        # just these

1. Builds .venv-colab with exactly colab/requirements-colab.txt (ipywidgets 7.7,
   Colab's numpy, matplotlib, IPython, ipykernel), reused while its stamp is newer
   than that file.
2. Installs the helper package the way a notebook's first cell does in Colab: a
   plain ``pip install`` of the repository (here the checked-out one, there the
   release tag), dependencies and all, then checks that pip left every pinned
   version alone. A helper that needs a newer numpy or ipywidgets 8 fails here.
3. Executes each notebook top to bottom in that venv's kernel, on a copy in a
   temporary folder (the committed notebooks are never written), failing on any
   cell error: the lessons' asserts run, but outputs are not compared digit by
   digit (that is nbval's job, on the book's own pinned stack).

Needs only the standard library and a Python 3.10+ to build the venv from;
``make colab-check`` runs it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PINS = ROOT / "colab" / "requirements-colab.txt"
VENV = Path(os.environ.get("COLAB_VENV", ROOT / ".venv-colab"))
STAMP = VENV / ".installed"
BUDGET_SECONDS = 120  # per notebook; the book's own budget (30 s) is checked by make execute


def venv_python() -> Path:
    return VENV / "bin" / "python"


def pins() -> dict[str, str]:
    """``{normalised name: version}`` from the pin file."""
    found = {}
    for line in PINS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            found[normalise(name)] = version.strip()
    return found


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pip(*args: str) -> None:
    subprocess.run([str(venv_python()), "-m", "pip", "--disable-pip-version-check",
                    *args], check=True, env=clean_env())


def clean_env() -> dict[str, str]:
    # The checkout's src/ must not shadow the installed helper: that is what is tested.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = f"{VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PIP_NO_INPUT"] = "1"
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # ipykernel 6's debugger notice
    return env


def drifted() -> dict[str, tuple[str, str | None]]:
    """Pinned packages whose installed version differs: ``{name: (pinned, installed)}``."""
    have = installed_versions()
    return {name: (want, have.get(name)) for name, want in pins().items()
            if (have.get(name) or "").split("+")[0] != want}


def build_venv() -> None:
    if STAMP.exists() and STAMP.stat().st_mtime > PINS.stat().st_mtime:
        if drifted():  # a failed earlier check may have left pip's upgrades behind
            print(f"restoring the pins in {VENV.name}", flush=True)
            pip("install", "--quiet", "-r", str(PINS))
        return
    print(f"building {VENV.name} from {PINS.relative_to(ROOT)}", flush=True)
    shutil.rmtree(VENV, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip("install", "--quiet", "-r", str(PINS))
    STAMP.touch()


def installed_versions() -> dict[str, str]:
    out = subprocess.run(
        [str(venv_python()), "-m", "pip", "--disable-pip-version-check", "list",
         "--format=freeze"], check=True, capture_output=True, text=True, env=clean_env(),
    ).stdout
    return {normalise(n): v for n, _, v in
            (line.partition("==") for line in out.splitlines() if "==" in line)}


def install_helper() -> None:
    """As the install cell does: ``pip install`` the package with its dependencies."""
    pip("uninstall", "--quiet", "--yes", "convergence-lab")
    # From a copy, as pip's own clone of the tag would be: building in the checkout
    # would leave build/ and *.egg-info behind.
    with tempfile.TemporaryDirectory(prefix="colab-clone-") as tmp:
        clone = Path(tmp) / "book"
        shutil.copytree(ROOT, clone, ignore=shutil.ignore_patterns(
            ".git", ".venv*", "_build", "build", "*.egg-info", "book", "__pycache__"))
        pip("install", "--quiet", str(clone))
    moved = drifted()
    if moved:
        for name, (want, got) in sorted(moved.items()):
            print(f"pip replaced Colab's {name}=={want} with {got}")
        raise SystemExit("installing the helper changed Colab's packages")
    if "convergence-lab" not in installed_versions():
        raise SystemExit("the helper package did not install")


RUNNER = r"""
import sys, time
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

src, dst, cwd, timeout = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
nb = nbformat.read(src, as_version=4)
client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                        resources={"metadata": {"path": cwd}})
start = time.perf_counter()
try:
    client.execute()
    status = 0
except CellExecutionError as exc:
    print(str(exc)[-3000:])
    status = 1
nbformat.write(nb, dst)
print(f"SECONDS {time.perf_counter() - start:.1f}")
sys.exit(status)
"""


# The live explorer in Colab's kernel: Colab is detected by its `google.colab` module
# (faked here), so the figure must be the PNG Image widget, and a slider move must
# redraw it. Then the same without the fake (no anywidget in Colab's pins).
LIVE_FALLBACK = r"""
import sys, types
import matplotlib
matplotlib.use("agg")
import convergence_lab as cl
from convergence_lab.live_view import fallback_reason

def setup(axes):
    return {"line": axes[0].plot([], [])[0]}

def draw(art, lr):
    art["line"].set_data([0, 1], [0, lr])

for colab in (True, False):
    if colab:
        sys.modules["google.colab"] = types.ModuleType("google.colab")
    else:
        sys.modules.pop("google.colab", None)
    reason = fallback_reason()
    assert reason, "the live view would load where it cannot"
    explorer = cl.Explorer(setup, draw, {"lr": cl.log_slider(
        "learning rate", 0.1, 1e-3, 1, learning_rate=True)})
    box = explorer.widgets(live_image=True)
    slider, image = box.children
    assert type(image).__name__ == "Image", box.children
    before = image.value
    slider.value = 1.0
    assert image.value != before, "a slider move did not redraw the PNG"
    print(f"live explorer falls back to the PNG Image: {reason}")
"""


def live_fallback() -> bool:
    """Build a live explorer in the Colab venv and check it falls back to the PNG."""
    proc = subprocess.run([str(venv_python()), "-c", LIVE_FALLBACK], capture_output=True,
                          text=True, env=clean_env())
    print((proc.stdout + proc.stderr[-3000:]).strip())
    return proc.returncode == 0


def execute(path: Path, scratch: Path) -> tuple[bool, float]:
    """Run one notebook in the Colab venv's kernel; the output goes to ``scratch``."""
    copy = scratch / path.relative_to(ROOT)
    copy.parent.mkdir(parents=True, exist_ok=True)
    # The kernel starts in a scratch copy of the chapter's folder, so nothing it
    # writes lands in the repository.
    proc = subprocess.run(
        [str(venv_python()), "-c", RUNNER, str(path), str(copy), str(copy.parent),
         str(BUDGET_SECONDS)],
        capture_output=True, text=True, env=clean_env(), cwd=copy.parent,
    )
    match = re.search(r"SECONDS ([\d.]+)", proc.stdout)
    seconds = float(match.group(1)) if match else float("nan")
    if proc.returncode != 0:
        report = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout[-6000:] + proc.stderr[-2000:])
        print(report)
    return proc.returncode == 0, seconds


def book_notebooks() -> list[Path]:
    found = (ROOT / "book").rglob("*.ipynb")
    return sorted(p for p in found if ".ipynb_checkpoints" not in p.parts)


def main(argv: list[str]) -> int:
    start = time.perf_counter()
    build_venv()
    install_helper()
    versions = installed_versions()
    shown = ("ipywidgets", "numpy", "matplotlib", "ipython", "ipykernel", "torch")
    print("Colab stack: " + ", ".join(f"{n} {versions.get(n, '?')}" for n in shown))
    paths = [Path(a).resolve() for a in argv] or book_notebooks()
    failed = [] if live_fallback() else ["the live explorer's fallback"]
    with tempfile.TemporaryDirectory(prefix="colab-check-") as tmp:
        for path in paths:
            ok, seconds = execute(path, Path(tmp))
            print(f"{path.relative_to(ROOT)}: {'ok' if ok else 'FAILED'} "
                  f"in {seconds:.1f} s", flush=True)
            if not ok:
                failed.append(path)
    ran = len([p for p in failed if isinstance(p, Path)])
    print(f"colab check: {len(paths) - ran} of {len(paths)} notebooks ran "
          f"without error with Colab's versions ({time.perf_counter() - start:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
