"""What checkup hands back: findings, and a report that prints and renders them."""

from __future__ import annotations

import html
import textwrap
from dataclasses import dataclass, field

from ..errors import LessonInputError

SEVERITIES = ("error", "warning", "info")
# code -> (what it catches, the page that teaches it). The check modules declare the
# codes; checks/__init__.py fills this table (as CHECKS) once, on import.
CODES: dict[str, tuple[str, str]] = {}


def fmt(x) -> str:
    """Two significant digits: portable across CPUs, enough for a diagnosis."""
    return f"{float(x):.2g}"


def names(items, most: int = 4) -> str:
    """'a, b, c, d, ...': the first few names of a list."""
    items = list(items)
    return ", ".join(items[:most]) + (", ..." if len(items) > most else "")


@dataclass(frozen=True)
class Finding:
    """One thing checkup observed: a code, how bad, what and why, where to read."""

    code: str
    severity: str
    message: str
    lesson: str | None = None  # the link to the section that teaches the code

    def __post_init__(self):
        if self.code not in CODES:
            raise LessonInputError(f"Unknown checkup code {self.code!r}.")
        if self.severity not in SEVERITIES:
            raise LessonInputError(f"Severity must be one of {SEVERITIES}.")


@dataclass
class Report:
    """What checkup found. ``ok`` means no finding of severity ``"error"``.

    ``notes`` say which probes were skipped and why; ``not_restored`` lists what the
    probes changed outside the model and optimizer and could not put back.
    """

    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    not_restored: list[str] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        return list(dict.fromkeys(f.code for f in self.findings))

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def _counts(self) -> str:
        n = {s: sum(f.severity == s for f in self.findings) for s in SEVERITIES}
        return ", ".join(f"{n[s]} {s}{'s' if n[s] != 1 else ''}" for s in SEVERITIES[:2])

    def __str__(self) -> str:
        lines = ["checkup: " + ("OK" if self.ok else "PROBLEMS") + f" ({self._counts()})"]
        for f in self.findings:
            lines += textwrap.wrap(f"[{f.severity}] {f.code}: {f.message}", 79,
                                   subsequent_indent="    ")
            if f.lesson:
                lines.append(f"    read: {f.lesson}")
        for note in self.notes:
            lines += textwrap.wrap(f"note: {note}", 79, subsequent_indent="    ")
        for what in self.not_restored:
            lines += textwrap.wrap(f"not restored: {what}", 79, subsequent_indent="    ")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Report(ok={self.ok}, codes={self.codes})"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{f.severity}</td><td><code>{f.code}</code></td>"
            f"<td style='text-align:left'>{html.escape(f.message)}</td>"
            f"<td>{_link(f.lesson)}</td></tr>" for f in self.findings)
        notes = "".join(f"<p>note: {html.escape(n)}</p>" for n in self.notes)
        notes += "".join(f"<p>not restored: {html.escape(n)}</p>"
                         for n in self.not_restored)
        head = html.escape(str(self).splitlines()[0])
        return (f"<p><b>{head}</b></p><table><tr><th>severity</th><th>code</th>"
                f"<th>message</th><th>read</th></tr>{rows}</table>{notes}")


def _link(url: str | None) -> str:
    """The lesson's link, clickable: its page and section as the text."""
    if not url:
        return ""
    shown = url.rpartition("/")[2].replace(".html#", " § ")
    return f"<a href='{html.escape(url, quote=True)}'>{html.escape(shown)}</a>"
