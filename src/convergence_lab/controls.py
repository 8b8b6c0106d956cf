"""An explorer's controls: one class per kind of slider or switch.

Everything that depends on the kind of a control lives in its class, and nowhere else:

* ``validate(name)``: the checks made when an explorer is built (a range that is a
  range, a default inside it, an option that exists);
* ``widget()``: the ipywidgets control (only API shared by ipywidgets 7.7 and 8);
* ``check(value)``: a value as the control's kind of value, or a
  :class:`~convergence_lab.errors.LessonInputError` saying why not;
* ``web_values(override)``, ``index_of``, ``labels``, ``web_kind``: the values the
  website recording offers, how it finds the default among them, their readouts and
  which HTML control shows them (``"fixed"``, ``"range"``, ``"checkbox"`` or
  ``"select"``).

A new kind of control is one new subclass of :class:`Control`. The chapters build
controls with the functions at the bottom (``log_slider``, ``slider``, ``int_slider``,
``choice``, ``toggle``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real
from typing import ClassVar

import numpy as np

from .errors import LessonInputError, check_int, check_learning_rate

__all__ = [
    "Control", "LogSlider", "FloatSlider", "IntSlider", "Choice", "Toggle",
    "log_slider", "slider", "int_slider", "choice", "toggle",
    "LOG_READOUT", "log_exponents", "dropdown_width",
]

# A readout legible at every value, from 1e-8 to 1e3: "1.00e-6", "3.16e-2".
LOG_READOUT = ".2e"
_STYLE = {"description_width": "initial"}


@dataclass(frozen=True)
class Control:
    """One slider or switch, independent of the widget library.

    ``kind`` names the kind (``"log"``, ``"float"``, ``"int"``, ``"choice"``,
    ``"bool"``) for code that reports on controls; behaviour comes from the methods.
    """

    kind: ClassVar[str] = ""
    ordered: ClassVar[bool] = False  # a range: the website's values are kept sorted

    description: str
    default: object

    def validate(self, name: str) -> None:
        """Raise ValueError if this control cannot work (called when an explorer is built)."""

    def widget(self):
        """The ipywidgets control; only API shared by ipywidgets 7.7 (Colab) and 8."""
        raise NotImplementedError

    def check(self, value):
        """``value`` as this control's kind of value, or a LessonInputError saying why not.

        Values beyond a slider's maximum are allowed: a reader may ask ``render``
        for them on purpose.
        """
        return value

    # -- the website recording -------------------------------------------------------
    def steps(self) -> list:
        """The values the control's own widget offers."""
        raise NotImplementedError

    def grid_value(self, value):
        """One value of a website grid given by the chapter, or a refusal if it is off
        the control."""
        return value

    def web_values(self, override=None) -> list:
        """The values this control takes on the website: its own steps, or ``override``.

        An override must stay inside the control's range (or options); the default is
        always kept, so the website opens on the same picture as the notebook.
        """
        if override is None:
            values = self.steps()
        else:
            values = list(override)
            if not values:
                raise LessonInputError(f"The website grid of {self.description!r} is empty.")
            values = [self.grid_value(v) for v in values]
        values = self._settle(values)
        if self.index_of(values, self.default) is None:
            values.append(self.default)
            if self.ordered:
                values.sort()
        return values

    def _settle(self, values: list) -> list:
        return values

    def index_of(self, values, value) -> int | None:
        """Where ``value`` is in ``values`` (the website's values), or None."""
        return next((i for i, v in enumerate(values) if v == value), None)

    def labels(self, values) -> list[str]:
        """Short, distinct readouts (and query-string values) for the website's values."""
        return [str(v) for v in values]

    def web_kind(self, values) -> str:
        """The website's control for ``values``: "fixed", "range", "checkbox" or "select"."""
        return "fixed" if len(values) == 1 else "select"


def _common(control: Control) -> dict:
    return {"description": control.description, "continuous_update": False,
            "style": dict(_STYLE)}


@dataclass(frozen=True)
class _Range(Control):
    """A slider from ``min`` to ``max`` (inclusive) by ``step``."""

    ordered: ClassVar[bool] = True

    min: float
    max: float
    step: float | None = None

    def validate(self, name: str) -> None:
        if not (self.min < self.max):
            raise ValueError(f"control {name!r}: min must be below max")
        if not (self.min <= self.default <= self.max):
            raise ValueError(f"control {name!r}: default {self.default} is outside its range")

    def grid_value(self, value):
        if not (self.min * (1 - 1e-9) <= value <= self.max * (1 + 1e-9)):
            raise LessonInputError(
                f"{value!r} is outside the range of {self.description!r} "
                f"({self.min:g} to {self.max:g})."
            )
        return value

    def web_kind(self, values) -> str:
        return "fixed" if len(values) == 1 else "range"


def _finite(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, Real) and math.isfinite(value)


@dataclass(frozen=True)
class _RealRange(_Range):
    """A slider over real numbers: its website values are matched with a tolerance."""

    def grid_value(self, value):
        return float(super().grid_value(value))

    def _settle(self, values: list) -> list:
        # The slider's own steps come from rounded exponents (0.29998 for a default 0.3):
        # a value that close to the default is the default, not a second setting.
        values = [self.default if math.isclose(v, self.default, rel_tol=1e-3) else v
                  for v in values]
        return sorted(set(values))

    def index_of(self, values, value) -> int | None:
        return next((i for i, v in enumerate(values) if math.isclose(v, value, rel_tol=1e-6)),
                    None)

    def labels(self, values) -> list[str]:
        for digits in range(3, 12):
            labels = [f"{v:.{digits}g}" for v in values]
            if len(set(labels)) == len(labels):
                return labels
        return [repr(v) for v in values]


def log_exponents(low: float, high: float, step: float) -> tuple[float, float, float]:
    """A log slider's exponent range and step, such that its top value is reachable.

    Exponents are rounded to 4 decimals (exact enough, and a short widget repr).
    ipywidgets 7's slider (jQuery UI, Colab) recomputes its top as
    ``round((max - min) / step) * step + min`` and drops a whole step when round-off
    puts that above ``max``: 3e-5 to 3 in half decades then stops at 0.949. So when
    the range is a whole number of steps, ``max`` is that very sum.
    """
    low = round(float(np.log10(low)), 4)
    high = round(float(np.log10(high)), 4)
    step = round(float(step), 4)
    steps = round((high - low) / step)
    if abs(low + steps * step - high) < 1e-6:
        high = low + steps * step
    return low, high, step


@dataclass(frozen=True)
class LogSlider(_RealRange):
    """A slider over powers of ten; ``step`` is in decades (default 0.1).

    ``learning_rate``: the value is a learning rate, and a refusal says why 0 and
    negative values make no run worth drawing.
    """

    kind: ClassVar[str] = "log"

    learning_rate: bool = False

    def validate(self, name: str) -> None:
        super().validate(name)
        if self.min <= 0:
            raise ValueError(f"control {name!r}: a log slider needs min > 0")

    def exponents(self) -> tuple[float, float, float]:
        """The slider's exponent range and step: the widget's and the website's steps."""
        return log_exponents(self.min, self.max, self.step or 0.1)

    def widget(self):
        """A FloatLogSlider reading out in exponent notation: the frontend formats the
        readout itself (d3-format), and a fixed-point format there shows 1e-6 as a
        cut-off ``0.0000010(``."""
        import ipywidgets as w

        low, high, step = self.exponents()
        return w.FloatLogSlider(value=self.default, base=10, min=low, max=high, step=step,
                                readout_format=LOG_READOUT, **_common(self))

    def check(self, value):
        if self.learning_rate:
            return check_learning_rate(value, self.description)
        if not (_finite(value) and value > 0):
            raise LessonInputError(
                f"The {self.description} must be a finite number above 0 (it is set on a "
                f"log scale), got {value!r}."
            )
        return float(value)

    def steps(self) -> list:
        """The slider's own values, in decades exactly as the ipywidgets slider steps."""
        low, high, step = self.exponents()
        n = int(round((high - low) / step)) + 1
        return [float(10 ** (low + step * k)) for k in range(n)]


@dataclass(frozen=True)
class FloatSlider(_RealRange):
    """A slider over real numbers; ``step`` defaults to a hundredth of the range."""

    kind: ClassVar[str] = "float"

    @property
    def step_size(self) -> float:
        return self.step or (self.max - self.min) / 100

    def widget(self):
        import ipywidgets as w

        return w.FloatSlider(value=self.default, min=self.min, max=self.max,
                             step=self.step_size, **_common(self))

    def check(self, value):
        if not _finite(value):
            raise LessonInputError(f"The {self.description} must be a finite number, "
                                   f"got {value!r}.")
        return float(value)

    def steps(self) -> list:
        step = self.step_size
        n = int(round((self.max - self.min) / step)) + 1
        return [float(self.min + step * k) for k in range(n)]


@dataclass(frozen=True)
class IntSlider(_Range):
    """A whole-number slider; ``why`` says why smaller values make no sense, if asked."""

    kind: ClassVar[str] = "int"

    why: str = ""

    def widget(self):
        import ipywidgets as w

        return w.IntSlider(value=self.default, min=self.min, max=self.max,
                           step=self.step or 1, **_common(self))

    def check(self, value):
        return check_int(value, f"The {self.description}", int(self.min), why=self.why)

    def grid_value(self, value):
        return int(super().grid_value(value))

    def steps(self) -> list:
        return list(range(int(self.min), int(self.max) + 1, int(self.step or 1)))


def dropdown_width(description: str, options) -> str:
    """A CSS width that fits the label and the longest option, and never less than
    the 300 px ipywidgets gives a control by default."""
    chars = len(description) + max((len(str(o)) for o in options), default=0)
    # About 0.6 em per character of the UI font, plus the arrow and the gaps.
    return f"max(300px, {0.6 * chars + 4:.1f}em)"


@dataclass(frozen=True)
class Choice(Control):
    """A dropdown over ``options``."""

    kind: ClassVar[str] = "choice"

    options: tuple = ()

    def validate(self, name: str) -> None:
        if self.default not in self.options:
            raise ValueError(f"control {name!r}: default {self.default!r} is not an option")

    def widget(self):
        """A dropdown wide enough for its label and longest option (no "initial wei...")."""
        import ipywidgets as w

        return w.Dropdown(options=list(self.options), value=self.default,
                          description=self.description, style=dict(_STYLE),
                          layout={"width": dropdown_width(self.description, self.options)})

    def check(self, value):
        if value not in self.options:
            allowed = ", ".join(map(str, self.options))
            raise LessonInputError(f"{self.description} must be one of {allowed}; "
                                   f"got {value!r}.")
        return value

    def grid_value(self, value):
        if value not in self.options:
            raise LessonInputError(
                f"{value!r} is not an option of {self.description!r} "
                f"({', '.join(map(str, self.options))})."
            )
        return value

    def steps(self) -> list:
        return list(self.options)


@dataclass(frozen=True)
class Toggle(Control):
    """A checkbox: off or on."""

    kind: ClassVar[str] = "bool"

    def widget(self):
        import ipywidgets as w

        # indent=False: the label sits right of the box at its full length, instead
        # of in what is left of a row whose left part is kept for a description.
        return w.Checkbox(value=bool(self.default), description=self.description,
                          indent=False, layout={"width": "auto"})

    def grid_value(self, value):
        return bool(value)

    def steps(self) -> list:
        return [False, True]

    def labels(self, values) -> list[str]:
        return ["on" if v else "off" for v in values]

    def web_kind(self, values) -> str:
        if len(values) == 1:
            return "fixed"
        return "checkbox" if values == [False, True] else "select"


def log_slider(description, default, min, max, step=0.1, *,  # noqa: A002 - mirrors ipywidgets
               learning_rate=False):
    """A slider over powers of ten; ``step`` is in decades.

    ``learning_rate=True`` marks a learning rate: a refused value is explained (0
    never moves the parameters, a negative one climbs the loss). The label plays no
    part: "NumPy lr" and "step size" are whatever the flag says.
    """
    return LogSlider(description, float(default), float(min), float(max), step,
                     learning_rate=bool(learning_rate))


def slider(description, default, min, max, step=None):  # noqa: A002
    """A slider over real numbers; ``step`` defaults to a hundredth of the range."""
    return FloatSlider(description, float(default), float(min), float(max), step)


def int_slider(description, default, min, max, step=1, why=""):  # noqa: A002
    """A whole-number slider; ``why`` says why smaller values make no sense, if asked."""
    return IntSlider(description, int(default), int(min), int(max), step, why=why)


def choice(description, options, default):
    """A dropdown over ``options``."""
    return Choice(description, default, options=tuple(options))


def toggle(description, default=False):
    """A checkbox."""
    return Toggle(description, bool(default))
