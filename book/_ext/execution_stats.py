"""Execution statistics: each chapter's run time, status and versions, on a book page.

``tools/execute_notebooks.py`` records every run in book/_execution_stats.json
(``record``); the ``{execution-stats}`` directive on book/status.md turns that file
into a table when the site is built (this module is also a Sphinx extension, loaded
through ``sphinx.local_extensions`` in _config.yml, which puts book/_ext on the path).
The notebooks themselves stay byte-for-byte reproducible: nothing about a run is written
into them.
"""

from __future__ import annotations

import json
import platform
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATS = ROOT / "book" / "_execution_stats.json"
PACKAGES = ("torch", "numpy", "matplotlib", "ipywidgets")
COLUMNS = ("Chapter", "Status", "Time (s)", "Python", *PACKAGES)


def versions() -> dict[str, str]:
    """The versions a notebook runs with (the kernel is this environment's python3)."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def load(path: Path = STATS) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def record(rel_path: str, seconds: float, status: str, path: Path = STATS) -> None:
    """Store one notebook's run; whole seconds so reruns rarely change the file."""
    stats = load(path)
    stats[rel_path] = {"seconds": round(seconds), "status": status, **versions()}
    path.write_text(json.dumps(dict(sorted(stats.items())), indent=1, sort_keys=True) + "\n")


def rows(stats: dict, chapters: list[str]) -> list[tuple]:
    """One row per chapter in reading order; a chapter never executed says so."""
    out = []
    for rel in chapters:
        entry = stats.get(rel)
        if entry is None:
            out.append((rel, "not recorded (run make execute)", "", "", *[""] * len(PACKAGES)))
            continue
        out.append((rel, entry["status"], str(entry["seconds"]), entry["python"],
                    *(entry.get(p, "") for p in PACKAGES)))
    return out


# -- the Sphinx side ----------------------------------------------------------------
def setup(app):
    from docutils import nodes
    from sphinx import addnodes
    from sphinx.util.docutils import SphinxDirective

    class ExecutionStats(SphinxDirective):
        """A table of book/_execution_stats.json, one row per chapter in the TOC."""

        def run(self):
            env = self.env
            self.env.note_dependency(str(STATS))
            toc_order = [d for d in _toc_docs(env)
                         if str(env.doc2path(d)).endswith(".ipynb")]
            rel = {d: Path(env.doc2path(d)).resolve().relative_to(ROOT).as_posix()
                   for d in toc_order}
            stats = load()
            found = rows(stats, [rel[d] for d in toc_order])
            # Versions shared by every chapter are said once, under a narrower table.
            shared = len({r[3:] for r in found}) == 1 and all(found[0][3:])
            columns = COLUMNS[:3] if shared else COLUMNS
            table = nodes.table(classes=["execution-stats"])
            group = nodes.tgroup(cols=len(columns))
            table += group
            group.extend(nodes.colspec(colwidth=1) for _ in columns)
            head = nodes.thead()
            head += _row(nodes, columns)
            body = nodes.tbody()
            for doc, cells in zip(toc_order, found, strict=True):
                link = addnodes.pending_xref("", refdomain="std", reftype="doc",
                                             reftarget="/" + doc, refexplicit=False)
                link += nodes.Text(doc)
                body += _row(nodes, (link, *cells[1:len(columns)]))
            group += head
            group += body
            if not shared:
                return [table]
            said = ", ".join(f"{n} {v}"
                             for n, v in zip(COLUMNS[3:], found[0][3:], strict=True))
            return [table, nodes.paragraph(text=f"Every chapter ran with {said}.")]

    app.add_directive("execution-stats", ExecutionStats)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def _toc_docs(env):
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    docs = [toc["root"]]
    for part in toc.get("parts", []):
        docs += [c["file"] for c in part.get("chapters", [])]
    return [d for d in docs if d in env.found_docs]


def _row(nodes, cells):
    row = nodes.row()
    for cell in cells:
        entry = nodes.entry()
        para = nodes.paragraph()
        para += cell if isinstance(cell, nodes.Node) else nodes.Text(str(cell))
        entry += para
        row += entry
    return row
