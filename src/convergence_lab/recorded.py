"""The chapters' :class:`Explorer`: the live explorer, also recorded for the website.

With ``web_grid`` (a mapping, ``{}`` for the controls' own steps) ``show()`` displays
the recording (a canvas explorer that moves without a kernel, with a PNG of the
defaults for places where scripts do not run; see :mod:`convergence_lab.recording`),
and below it the live sliders with their figure inside the widget box, so a page
without a kernel shows only the recording. Without ``web_grid`` it is the live
explorer (:class:`convergence_lab.explorer.LiveExplorer`).
"""

from __future__ import annotations

from .explorer import LiveExplorer
from .recording import Recording, record

__all__ = ["Explorer"]


class Explorer(LiveExplorer):
    """Sliders over a chapter's ``draw``, live in Jupyter and recorded for the website.

    Takes the arguments of :class:`~convergence_lab.explorer.LiveExplorer`.
    """

    _recording: Recording | None = None

    def recording(self) -> Recording:
        """The website recording over ``web_grid`` (made once, then reused)."""
        if self._recording is None:
            self._recording = record(self, self.web_grid, name=self.name)
        return self._recording

    def show(self) -> None:
        """With ``web_grid``: the website recording, then the live sliders with their
        figure inside the widget box (shown only where a kernel runs the widgets).
        Without: as :meth:`LiveExplorer.show`."""
        if self.web_grid is None:
            super().show()
            return
        from IPython.display import display

        display(self.recording())
        box = self.widgets(live_image=True)
        if box is not None:
            display(box)
