"""The single-page build (``-b singlehtml``) that tools/build_pdf.py prints to the PDF.

myst-nb registers the HTML writer of its folded cells (``HideCodeCellNode``) for the
``html`` builder only, so the single-page builder stops at the first folded cell. This
registers the same writer for ``singlehtml``.
"""

from __future__ import annotations

from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput, visit_HideCellInput


def setup(app):
    app.add_node(HideCodeCellNode, override=True,
                 singlehtml=(visit_HideCellInput, depart_HideCellInput))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
