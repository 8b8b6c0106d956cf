"""Benchmark: input-to-repaint latency of each chapter's explorer inside JupyterLab.

    python benchmarks/bench_jupyterlab.py                      # every chapter with a recording
    python benchmarks/bench_jupyterlab.py book/03-*/broadcast_regression.ipynb
    python benchmarks/bench_jupyterlab.py --stock      # without the helper's server extension

Needs JupyterLab (benchmarks/requirements.txt; `make bench` installs it). Starts
`jupyter lab` on 127.0.0.1 at a free port, with a token made here, no browser, and its
config, data, runtime, settings and workspace folders in a temporary directory that also
holds a copy of the notebooks (the repository's files are never touched). The kernel
imports this checkout's helper package (PYTHONPATH=src). Opens each notebook in headless
Chromium (Debian's) with every request that is not to this server aborted, runs all its
cells, and then measures the two explorers a reader of the notebook meets:

* static: the browser-side recording in the cell's output (the website's explorer),
  moved by keyboard and option picks; each move timed in the page from the input event's
  timestamp to the next animation frame after the canvas was drawn (the renderer's own
  `clStats`, as on the website).
* live: the ipywidgets explorer under it (sliders, dropdowns and checkboxes driving the
  kernel), moved the same way. Its figure is the live view (convergence_lab.live_view:
  the kernel sends the frame's artists, the website's renderer draws them on a canvas)
  where the kernel has anywidget, else the PNG Image widget; the table says which. Each
  move is timed from the input event's timestamp to the animation frame after the
  figure was redrawn: for the live view, the `cl-live-drawn` event its render() fires
  from requestAnimationFrame after drawFrame; for the Image, the frame after its new
  picture is decoded (MutationObserver on its `src`). A move whose frame (or picture)
  is identical to the last one sends nothing back and is counted as "no repaint", not
  timed.

Targets (DESIGN.md): in-notebook input-to-repaint median under 50 ms. Exits 1 if the
static explorer in a notebook misses it, if the live figure's median is 50 ms or more
or its 95th percentile 100 ms or more, or if any request left the machine (anywidget's
frontend and the view's code must come from the installed packages). The server is
shut down however the run ends. The server runs as `make lab` starts it, with the
helper's server extension (convergence_lab.lab_server: no Nagle delay on kernel
WebSockets); `--stock` leaves it out, to measure a stock JupyterLab.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat
from browser import ARGS, CHROMIUM
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from convergence_lab.lab_server import EXTENSION

ROOT = Path(__file__).resolve().parents[1]
BUDGET_MS = 50.0
LIVE_P95_MS = 100.0

# In-page probes. A capture listener stamps the first input event after `arm()`; the
# live view's `cl-live-drawn` event (detail: the animation frame's time) and an observer
# on every Image widget (the frame after its new picture is decoded) stamp the repaint.
PROBE = """() => {
  if (window.__lat) return;
  window.__lat = []; window.__armed = false; window.__t0 = 0;
  for (const type of ['keydown', 'pointerdown', 'input', 'change']) {
    document.addEventListener(type, e => {
      if (window.__armed) { window.__t0 = e.timeStamp; window.__armed = false; }
    }, true);
  }
  document.addEventListener('cl-live-drawn', e => window.__lat.push(e.detail - window.__t0));
  const watch = img => new MutationObserver(() => {
    const t0 = window.__t0;
    img.decode().catch(() => null).then(() => requestAnimationFrame(() =>
      window.__lat.push(performance.now() - t0)));
  }).observe(img, {attributes: true, attributeFilter: ['src']});
  document.querySelectorAll('img.widget-image').forEach(watch);
}"""
RUN_ALL = """async () => {
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  await panel.context.ready;
  await panel.sessionContext.ready;
  return await app.commands.execute('notebook:run-all-cells');
}"""
# Bring the explorer's cell into view (JupyterLab may skip rendering cells out of view).
SHOW_EXPLORER = """async () => {
  const panel = window.jupyterapp.shell.currentWidget, nb = panel.content;
  panel.node.dataset.bench = "1";  // the queries below look inside this notebook only
  const i = nb.widgets.findIndex(c => c.model.type === 'code' &&
      JSON.stringify(c.model.toJSON().outputs || []).includes('cl-explorer'));
  if (i < 0) return false;
  nb.activeCellIndex = i;
  await nb.scrollToItem(i, 'start');
  nb.widgets[i].node.scrollIntoView({block: 'start'});
  return true;
}"""
PANEL_READY = """() => {
  const app = window.jupyterapp, w = app && app.shell.currentWidget;
  return !!(w && w.sessionContext && w.content && w.content.widgets.length);
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def has_recording(path: Path) -> bool:
    nb = nbformat.read(path, as_version=4)
    return any("cl-explorer" in str(o.get("data", {}).get("text/html", ""))
               for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


# The server runs as `make lab` runs it: with the helper's server extension
# (convergence_lab.lab_server), which turns Nagle's algorithm off on kernel WebSockets.
# On a stock server a move's replies (busy, the slider's echo, the frame, idle) wait
# for the browser's delayed ACK of the first, about 40 ms; `--stock` measures that.
@contextlib.contextmanager
def jupyter_lab(workdir: Path, stock: bool = False):
    """A JupyterLab server on loopback, in workdir; yields (base url, token).

    With the helper's server extension, as `make lab` starts it, unless ``stock``.
    """
    port, token = free_port(), secrets.token_hex(16)
    extension = [] if stock else [
        f"--ServerApp.jpserver_extensions={EXTENSION}=True"]
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"),
                                                        os.environ.get("PYTHONPATH")])),
           "JUPYTER_CONFIG_DIR": str(workdir / ".jupyter" / "config"),
           "JUPYTER_DATA_DIR": str(workdir / ".jupyter" / "data"),
           "JUPYTER_RUNTIME_DIR": str(workdir / ".jupyter" / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(workdir / ".jupyter" / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(workdir / ".jupyter" / "workspaces")}
    jupyter = Path(sys.executable).with_name("jupyter")
    log = open(workdir / "jupyter-lab.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [str(jupyter), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={workdir}",
         # The benchmark drives the page's own application object (run all cells).
         "--LabApp.expose_app_in_browser=True",
         # Nothing that would reach for the network.
         "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.extension_manager=readonly", *extension]
        # A container's root user (CI here): JupyterLab refuses root without this.
        + (["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                log.flush()
                tail = (workdir / "jupyter-lab.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"jupyter lab exited:\n{tail}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def summary(times: list[float]) -> tuple[float, float]:
    return (statistics.median(times), max(times)) if times else (float("nan"), float("nan"))


def p95(times: list[float]) -> float:
    if len(times) < 2:
        return times[0] if times else float("nan")
    return statistics.quantiles(times, n=20, method="inclusive")[-1]


def control_moves(control, kind: str, passes: int) -> list:
    """Moves through the control's values and back, each of which changes its value."""
    if kind == "range":
        n = int(control.get_attribute("max")) + 1
        steps = min(n - 1, 12)  # from 0: every press moves, then End, then back down
        return (["ArrowRight"] * steps + (["End"] if steps < n - 1 else [])
                + ["ArrowLeft"] * steps) * passes
    if kind == "select":
        n = control.evaluate("e => e.options.length")
        return [("select", k) for k in list(range(1, n)) * passes + [0]]
    return [" "] * (2 * passes)


def measure_static(page, passes: int) -> dict:
    """Move every control of the recording; keyboard for sliders and checkboxes."""
    moves = drawn = 0
    times = []
    drawn_count = "r => r.clStats.moves.length"
    for root in page.query_selector_all("[data-bench] .cl-explorer[data-rendered]"):
        root.evaluate("e => e.scrollIntoView({block: 'start'})")
        for control in root.query_selector_all("input[data-control], select[data-control]"):
            kind = control.evaluate("e => e.tagName === 'SELECT' ? 'select' : e.type")
            for _ in range(passes):
                if kind == "range":  # each pass starts at the first value (not timed)
                    control.fill("0")
                elif kind == "select":
                    control.select_option("0")
                page.wait_for_timeout(50)
                before = root.evaluate(drawn_count)
                plan = control_moves(control, kind, 1)
                for step in plan:
                    if isinstance(step, tuple):
                        control.select_option(str(step[1]))
                    else:
                        control.focus()
                        page.keyboard.press(step)
                page.wait_for_timeout(100)
                moves += len(plan)
                # The planned moves only, not the reset to the first value before them.
                mine = root.evaluate(f"r => r.clStats.moves.slice({before})")
                drawn += len(mine)
                times += mine
    return {"times": times, "moves": moves, "drawn": drawn}


def measure_live(page, passes: int, wait_ms: int) -> dict:
    """Move the ipywidgets controls; time each move to the repaint of the figure: the
    live view's canvas where there is one, else the Image widget."""
    page.evaluate(PROBE)
    box = page.query_selector("[data-bench] .cl-live canvas")
    figure = "live view"
    if box is None:
        box, figure = page.query_selector("[data-bench] img.widget-image"), "PNG Image"
    if box is None:
        return {"times": [], "moves": 0, "silent": 0, "figure": "none"}
    if figure == "live view":  # the browser has told the kernel: no PNG is sent any more
        page.wait_for_function(
            "!document.querySelector('[data-bench] img.widget-image') || "
            "document.querySelector('[data-bench] img.widget-image').offsetParent === null",
            timeout=10_000)
    box.evaluate("e => e.scrollIntoView({block: 'center'})")
    sliders = page.query_selector_all("[data-bench] .widget-slider .noUi-handle")
    selects = page.query_selector_all("[data-bench] .widget-dropdown select")
    boxes = page.query_selector_all("[data-bench] .widget-checkbox input[type=checkbox]")
    plan = []
    for handle in sliders:
        plan += [(handle, k) for k in (["ArrowRight"] * 6 + ["ArrowLeft"] * 6) * passes]
    for select in selects:
        n = select.evaluate("e => e.options.length")
        plan += [(select, ("select", k)) for k in list(range(1, n)) * passes + [0]]
    for check in boxes:
        plan += [(check, "click")] * (2 * passes)
    silent = 0
    for element, step in plan:
        before = page.evaluate("window.__lat.length")
        page.evaluate("window.__armed = true")
        if isinstance(step, tuple):
            element.select_option(index=step[1])
        elif step == "click":
            element.click()
        else:
            element.focus()
            page.keyboard.press(step)
        try:
            page.wait_for_function(f"window.__lat.length > {before}", timeout=wait_ms)
        except PlaywrightTimeout:
            silent += 1  # same picture (or an end of the range): nothing to repaint
    return {"times": page.evaluate("window.__lat"), "moves": len(plan), "silent": silent,
            "figure": figure}


def bench_notebook(browser, base: str, token: str, rel: str, passes: int) -> dict:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    offsite, errors = [], []

    def route(r):
        url = r.request.url
        if url.startswith((base, "data:", "blob:")):
            r.continue_()
        else:
            offsite.append(url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("websocket", lambda ws: ws.url.startswith(base.replace("http", "ws", 1))
            or offsite.append(ws.url))
    try:
        # A workspace of its own, reset: only this notebook open (JupyterLab would
        # otherwise reopen the notebooks of earlier runs, which it has autosaved).
        space = "bench-" + secrets.token_hex(4)
        page.goto(f"{base}/lab/workspaces/{space}/tree/{rel}?reset&token={token}")
        page.wait_for_function(PANEL_READY, timeout=60_000)
        start = time.perf_counter()
        page.evaluate(RUN_ALL)
        run_seconds = time.perf_counter() - start
        page.wait_for_function(
            "document.querySelector('.cl-explorer[data-rendered]') && "
            "document.querySelector('.cl-live[data-frames], img.widget-image')", timeout=60_000)
        page.evaluate(SHOW_EXPLORER)
        page.wait_for_timeout(500)
        static = measure_static(page, passes)
        live = measure_live(page, passes, wait_ms=3_000)
        return {"static": static, "live": live, "run_seconds": run_seconds,
                "errors": errors, "offsite": offsite}
    finally:
        context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks (default: every chapter notebook with a recording)")
    parser.add_argument("--passes", type=int, default=2,
                        help="times each control is moved through its values (default 2)")
    parser.add_argument("--stock", action="store_true",
                        help="a stock server, without the helper's server extension "
                             "(convergence_lab.lab_server, which `make lab` enables)")
    args = parser.parse_args()
    notebooks = [p.resolve() for p in args.notebooks] or sorted(
        p for p in (ROOT / "book").rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts and has_recording(p))
    if not notebooks:
        print("no chapter notebook holds a recorded explorer yet")
        return 1
    results, ok = [], True
    with tempfile.TemporaryDirectory(prefix="bench-jupyterlab-") as tmp:
        work = Path(tmp)
        rels = []
        for nb in notebooks:
            rel = Path(nb.parent.name) / nb.name
            (work / rel.parent).mkdir(parents=True, exist_ok=True)
            shutil.copy2(nb, work / rel)
            rels.append(rel.as_posix())
        with jupyter_lab(work, args.stock) as (base, token), sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                for rel in rels:
                    print(f"{rel}: running all cells in JupyterLab ...", flush=True)
                    results.append((rel, bench_notebook(browser, base, token, rel,
                                                        args.passes)))
            finally:
                browser.close()

    print("\n| notebook | run all s | static moves drawn | static median ms | static worst ms "
          "| live figure | live moves (no repaint) | live median ms | live p95 ms | live worst ms "
          "| page errors | off-machine | verdict |")
    print("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for rel, r in results:
        s_med, s_worst = summary(r["static"]["times"])
        l_med, l_worst = summary(r["live"]["times"])
        l_p95 = p95(r["live"]["times"])
        # NaN (nothing timed) fails the comparisons below, as it should.
        good = (s_med < BUDGET_MS and not r["offsite"]
                and r["static"]["drawn"] == r["static"]["moves"]
                and l_med < BUDGET_MS and l_p95 < LIVE_P95_MS)
        ok &= good
        drawn = f"{r['static']['drawn']}/{r['static']['moves']}"
        print(f"| {rel} | {r['run_seconds']:.1f} | {drawn} | {s_med:.1f} "
              f"| {s_worst:.1f} | {r['live']['figure']} "
              f"| {r['live']['moves']} ({r['live']['silent']}) | {l_med:.1f} | {l_p95:.1f} "
              f"| {l_worst:.1f} | {len(r['errors'])} | {len(r['offsite'])} "
              f"| {'ok' if good else 'MISSED'} |")
    for rel, r in results:
        for e in r["errors"][:5]:
            print(f"{rel}: page error: {e}")
        for u in r["offsite"][:5]:
            print(f"{rel}: blocked request: {u}")
    print("\nserver: " + ("stock (--stock): kernel WebSockets keep Nagle's algorithm"
                         if args.stock else f"with {EXTENSION}, as `make lab` starts it"))
    print(f"\ntargets: in-notebook input-to-repaint median < {BUDGET_MS:g} ms (the static "
          f"explorer in the output, and the live figure), live p95 < {LIVE_P95_MS:g} ms; "
          "nothing requested off the machine")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
