"""Reader notebooks for Colab: the chapters as plain Jupyter notebooks, no MyST left.

    python tools/reader_notebooks.py OUT_DIR

writes OUT_DIR/book/<chapter>/<name>.ipynb (the same paths as in the repository) and
a README. The deploy workflow publishes OUT_DIR as the ``colab`` branch, and the
site's Colab button (``repository.branch: colab`` in _config.yml) opens those files.

The book's notebooks are MyST notebooks: directives (```{admonition}, :::{note}),
roles ({ref}`...`) and targets render on the website but show as raw text in Colab
and JupyterLab. Here, with markdown-it (the parser MyST itself is built on) finding
the fences:

- admonitions, tips, notes, dropdowns, exercises, solutions and any other directive
  become a blockquote with a bold title and their content as plain markdown;
- ``{only} html`` blocks, and directives with the class ``website-only``, are
  dropped: they speak about the website (the rocket icon, "on this page");
- ``{math}`` becomes ``$$``, ``{code-block}`` a plain fence, ``{figure}`` an image;
- roles become their text, or a link to the page on the website;
- relative links to other pages of the book point at the website;
- saved widget state and widget views are dropped: Colab runs ipywidgets 7, and
  ipywidgets 8's saved state only raises "Cannot find model module" there. The
  plain PNG figure each explorer leaves stays, so the notebook reads before it runs.

Code cells are left exactly as they are: the lesson is the same code.
"""

from __future__ import annotations

import copy
import functools
import posixpath
import re
import sys
from pathlib import Path

import nbformat
import yaml
from markdown_it import MarkdownIt
from mdit_py_plugins.colon_fence import colon_fence_plugin

ROOT = Path(__file__).resolve().parents[1]
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

# What survives nowhere in a reader notebook (tests/book/test_reader_notebooks.py).
MYST_LEFTOVERS = re.compile(
    r"^\s*(?:>\s*)*(?:`{3,}|~{3,}|:{3,})\s*\{"   # a directive fence: ```{x}, :::{x}
    r"|\{[a-zA-Z][\w:+-]*\}`"                     # a role: {ref}`x`
    r"|^\s*\([\w.:-]+\)=\s*$"                     # a target: (label)=
    r"|^\s*(?:>\s*)*:{3,}\s*$"                    # a closing ::: fence
    r"|^\s*:(?:class|label|name|open|dropdown):", # a directive option line
    re.MULTILINE,
)

TITLES = {
    "note": "Note", "tip": "Tip", "hint": "Hint", "important": "Important",
    "warning": "Warning", "caution": "Caution", "attention": "Attention",
    "danger": "Danger", "error": "Error", "seealso": "See also",
    "exercise": "Exercise", "solution": "Solution", "margin": "", "sidebar": "",
    "topic": "", "dropdown": "", "admonition": "", "epigraph": "", "card": "",
}
DROPPED = {"only", "tableofcontents", "toctree", "glue", "glue:figure", "glue:any",
           "bibliography", "index", "raw"}
ROLE = re.compile(r"\{([a-zA-Z][\w:+-]*)\}`([^`]*)`")
TARGET = re.compile(r"^\s*\([\w.:-]+\)=\s*$")
LINK = re.compile(r"(\]\()([^)\s]+)(\))")
TITLED = re.compile(r"^(.*?)\s*<([^<>]+)>$", re.DOTALL)


def site_url(root: Path = ROOT) -> str:
    """The website's root URL: html.baseurl in _config.yml."""
    config = yaml.safe_load((root / "_config.yml").read_text())
    return config["html"]["baseurl"].rstrip("/") + "/"


HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*$")
EXERCISE = re.compile(r"^\s*(?:`{3,}|:{3,})\{exercise\}[^\n]*\n(?::[\w-]+:.*\n)*?:label:\s*(\S+)",
                      re.MULTILINE)


def book_labels(root: Path = ROOT) -> dict[str, tuple[str, str]]:
    """Every cross-reference target of the book: label -> (what to call it, page path).

    Section labels ``(name)=`` take the heading that follows them; exercises
    (``:label:`` of an ``{exercise}``) are "Exercise k", k counted within their page.
    So a bare {ref}`label` reads as the section's title in a reader notebook.
    """
    labels = {}
    pages = [p for p in sorted((root / "book").rglob("*"))
             if p.suffix in (".md", ".ipynb") and ".ipynb_checkpoints" not in p.parts
             and "_build" not in p.parts]
    for page in pages:
        rel = page.relative_to(root).as_posix()
        if page.suffix == ".ipynb":
            nb = nbformat.read(page, as_version=4)
            text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        else:
            text = page.read_text()
        lines = text.split("\n")
        for i, line in enumerate(lines):
            target = re.match(r"^\s*\(([\w.:-]+)\)=\s*$", line)
            if target:
                heading = next((HEADING.match(ln) for ln in lines[i + 1:i + 4]
                                if HEADING.match(ln)), None)
                labels[target.group(1)] = (heading.group(1) if heading else target.group(1),
                                           rel)
        for k, m in enumerate(EXERCISE.finditer(text), 1):
            labels[m.group(1)] = (f"Exercise {k}", rel)
    return labels


@functools.cache  # read once per run, not once per converted notebook
def page_titles(root: Path = ROOT) -> dict[str, str]:
    """``{"book/checklist": "The convergence checklist", ...}``: each page's first heading."""
    titles = {}
    for page in sorted((root / "book").rglob("*")):
        if page.suffix not in (".md", ".ipynb") or {"_build", ".ipynb_checkpoints"} & set(
                page.parts):
            continue
        if page.suffix == ".ipynb":
            nb = nbformat.read(page, as_version=4)
            text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        else:
            text = page.read_text()
        first = re.search(r"^#\s+(.+?)\s*$", text, re.MULTILINE)
        if first:
            titles[posixpath.splitext(page.relative_to(root).as_posix())[0]] = first.group(1)
    return titles


class Converter:
    """Turns one notebook's MyST markdown into plain Jupyter markdown."""

    def __init__(self, rel_path: str, base_url: str, labels: dict | None = None):
        self.rel_dir = posixpath.dirname(rel_path)  # the page's folder in the repo
        self.rel_path = rel_path
        self.base_url = base_url
        self.labels = book_labels() if labels is None else labels
        self.titles = page_titles()
        self.md = MarkdownIt("commonmark").use(colon_fence_plugin)

    # -- links and roles -------------------------------------------------------
    def page_url(self, target: str, relative_to_page: bool = True) -> str:
        """A book path (``../checklist.md#x``, ``/book/intro``) as a website URL."""
        path, _, anchor = target.partition("#")
        if path.startswith("/"):
            path = path.lstrip("/")
        elif relative_to_page:
            path = posixpath.normpath(posixpath.join(self.rel_dir, path))
        stem, ext = posixpath.splitext(path)
        if ext in (".md", ".ipynb", ""):
            path = stem + ".html"
        return self.base_url + path + (f"#{anchor}" if anchor else "")

    def link(self, match: re.Match) -> str:
        target = match.group(2)
        if re.match(r"^(?:[a-z][a-z0-9+.-]*:|#|data:)", target, re.IGNORECASE):
            return match.group(0)
        return match.group(1) + self.page_url(target) + match.group(3)

    def role(self, match: re.Match) -> str:
        out = self._role(match)
        # Words that replace a reference start a sentence when the reference did.
        before = match.string[:match.start()].rstrip(" *_\n>(")
        if out[:1].islower() and (not before or before[-1] in ".!?:"):
            out = out[0].upper() + out[1:]
        return out

    def _role(self, match: re.Match) -> str:
        name, body = match.group(1), match.group(2)
        titled = TITLED.match(body)
        text, target = (titled.group(1), titled.group(2)) if titled else (body, body)
        if name == "math":
            return f"${body}$"
        if name in ("doc", "download"):
            if not titled:  # the page's own title, as on the website
                page = posixpath.normpath(posixpath.join(self.rel_dir, target))
                text = self.titles.get(posixpath.splitext(page)[0], text)
            return f"[{text}]({self.page_url(target)})"
        if name == "eq":  # a numbered equation: its number exists only on the website
            return "the equation above" if not titled else text
        if name == "cite":  # a link to the source's entry on the book's references page
            return "[source](" + self.page_url("/book/references") + ")"
        number_template = "%s" in text or "{number}" in text
        if name in ("ref", "numref") and (not titled or number_template) and target in self.labels:
            if target.startswith("fig"):
                return "the figure"
            # A section or chapter: its title in quotes, a link when it is on another page.
            title, page = self.labels[target]
            quoted = title if title.startswith("Exercise ") else f"\u201c{title}\u201d"
            if page == self.rel_path:
                return quoted
            return f"[{quoted}]({self.page_url('/' + page)}#{target})"
        if name == "numref" and (not titled or number_template):
            return "the figure" if target.startswith("fig") else "the table"
        if name in ("ref", "numref", "term", "abbr", "sub", "sup", "kbd", "guilabel"):
            # A label names no file; the visible text is what a reader needs.
            return text.replace("%s", "").replace("{number}", "").strip()
        return text

    def inline(self, text: str) -> str:
        lines = [ln for ln in text.split("\n") if not TARGET.match(ln)]
        text = "\n".join(lines)
        # A labelled display equation, $$ ... $$ (eq-x): the label is the website's.
        text = re.sub(r"\$\$[ \t]*\([\w.:-]+\)[ \t]*$", "$$", text, flags=re.MULTILINE)
        text = ROLE.sub(self.role, text)
        return LINK.sub(self.link, text)

    # -- directives ------------------------------------------------------------
    def directive(self, name: str, argument: str, body: str) -> str | None:
        """The plain-markdown replacement for one directive, or None to drop it."""
        options, content = split_options(body)
        if name in DROPPED or "website-only" in options.get("class", ""):
            return None
        if name == "math":
            return f"$$\n{content.strip()}\n$$"
        if name in ("code-block", "code", "code-cell", "sourcecode"):
            return f"```{argument}\n{content.rstrip()}\n```"
        if name in ("figure", "image"):
            src = argument if re.match(r"^[a-z]+:", argument) else self.page_url(
                argument, relative_to_page=True).removesuffix(".html")
            caption = self.convert(content).strip()
            return f"![{caption or 'figure'}]({src})" + (f"\n\n*{caption}*" if caption else "")
        if name == "solution-end":
            return None
        if name == "solution-start":  # the solution's cells follow, ungated here
            what = self.labels.get(argument, ("the exercise", ""))[0]
            return f"**Solution to {what}**"
        title = argument or TITLES.get(name, name.replace("-", " ").capitalize())
        if name == "exercise" and options.get("label") in self.labels:
            title = self.labels[options["label"]][0] + (f": {argument}" if argument else "")
        if name == "solution" and argument:
            title = "Solution to " + self.labels.get(argument, ("the exercise", ""))[0]
        inner = self.convert(content).strip()
        # Inline math that wraps across lines would get the quote's "> " inside it.
        inner = re.sub(r"(?<![$\\])\$(?!\$)[^$]+?(?<!\\)\$",
                       lambda m: m.group(0).replace("\n", " "), inner)
        lines = ([f"**{self.inline(title)}**", ""] if title else []) + inner.split("\n")
        return "\n".join(f"> {ln}".rstrip() for ln in lines)

    def convert(self, text: str) -> str:
        """Plain markdown for ``text``: directives replaced, roles and links resolved."""
        lines = text.split("\n")
        fences = [t for t in self.md.parse(text)
                  if t.type in ("fence", "colon_fence") and t.map is not None]
        out, pos = [], 0
        for tok in fences:
            start, end = tok.map
            out.append(self.inline("\n".join(lines[pos:start])))
            first = lines[start]
            prefix = first[: first.index(tok.markup)]
            match = re.match(r"^\{([^}]+)\}\s*(.*)$", tok.info.strip())
            if match:
                block = self.directive(match.group(1), match.group(2).strip(), tok.content)
                block_lines = [] if block is None else block.split("\n")
            else:  # an ordinary code fence: copied as it is
                block_lines = [ln[len(prefix):] if ln.startswith(prefix) else ln
                               for ln in lines[start:end]]
            out.append("\n".join((prefix + ln).rstrip() if ln else prefix.rstrip()
                                 for ln in block_lines))
            pos = end
        out.append(self.inline("\n".join(lines[pos:])))
        text = "\n".join(part for part in out)
        text = re.sub(r"\n{3,}", "\n\n", text)  # a dropped block leaves no gap
        return text.strip("\n")


def split_options(body: str) -> tuple[dict, str]:
    """A directive's ``:key: value`` lines (or ``---`` YAML block) and its content."""
    lines = body.split("\n")
    options = {}
    if lines and lines[0].strip() == "---" and "---" in (ln.strip() for ln in lines[1:]):
        end = next(i for i, ln in enumerate(lines[1:], 1) if ln.strip() == "---")
        options = yaml.safe_load("\n".join(lines[1:end])) or {}
        lines = lines[end + 1:]
    while lines and re.match(r"^:[\w-]+:", lines[0]):
        key, _, value = lines.pop(0)[1:].partition(":")
        options[key] = value.strip()
    return {k: str(v) for k, v in options.items()}, "\n".join(lines)


def reader_notebook(nb, rel_path: str, base_url: str, labels: dict | None = None):
    """A copy of ``nb`` that reads cleanly in Colab and JupyterLab."""
    nb = copy.deepcopy(nb)
    converter = Converter(rel_path, base_url, labels)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = converter.convert(cell.source)
        elif cell.cell_type == "code":
            cell.outputs = [out for out in cell.outputs
                            if WIDGET_VIEW not in out.get("data", {})]
            if {"hide-input", "hide-cell"} & set(cell.metadata.get("tags", [])):
                # Folded on the website, so folded here too: JupyterLab reads
                # source_hidden, Colab a form cell's view.
                cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
                cell.metadata["cellView"] = "form"
    # A cell that held only website text is left empty: JupyterLab would show its
    # "Type Markdown and LaTeX" placeholder.
    nb.cells = [c for c in nb.cells if c.cell_type != "markdown" or c.source.strip()]
    nb.metadata.pop("widgets", None)
    page = base_url + posixpath.splitext(rel_path)[0] + ".html"
    has_explorer = any("explorer.show()" in c.source for c in nb.cells
                       if c.cell_type == "code")
    sliders = ", and the sliders at the end come alive" if has_explorer else ""
    note = nbformat.v4.new_markdown_cell(
        f"*This is the notebook edition of a chapter of the book; read it with its "
        f"figures on the [website]({page}). Run all cells: the first installs the "
        f"book's helper package{sliders}.*"
    )
    note.id = "reader-edition-note"
    nb.cells.insert(1, note)
    return nb


def book_notebooks(root: Path = ROOT) -> list[Path]:
    found = (root / "book").rglob("*.ipynb")
    return sorted(p for p in found if ".ipynb_checkpoints" not in p.parts)


README = """# Why Won't It Converge? (notebooks for Colab)

Generated from the `main` branch by `tools/reader_notebooks.py` on every deploy: the
book's chapters as plain Jupyter notebooks (no MyST syntax, no saved widget state).
Do not edit here; edit the chapters on `main`.
"""


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    out = Path(argv[0]).resolve()
    base_url = site_url()
    labels = book_labels()
    for path in book_notebooks():
        rel = path.relative_to(ROOT).as_posix()
        nb = reader_notebook(nbformat.read(path, as_version=4), rel, base_url, labels)
        left = [c.source for c in nb.cells
                if c.cell_type == "markdown" and MYST_LEFTOVERS.search(c.source)]
        if left:
            print(f"{rel}: MyST syntax left in a markdown cell:\n{left[0]}")
            return 1
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        print(f"{rel}: reader notebook written")
    (out / "README.md").write_text(README)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
