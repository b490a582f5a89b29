"""What the book's widget panels share, so that every reader can use them.

The panels (:func:`helpers.lab.start_methods.start_method_panel`,
:class:`helpers.lab.bench_panel.BenchPanel`) are checked with axe-core in the HTML
book (tests/test_browser.py). Three things they need that ipywidgets does not give
by default:

- **Labelled controls.** ipywidgets 8 draws a slider's description as a ``<label>``
  tied to nothing: the slider handle has no accessible name (axe:
  ``aria-input-field-name``), and the buttons of ``ToggleButtons`` are not grouped
  under theirs. A ``BoundedIntText`` or a ``Dropdown`` ties its description to its
  ``<input>`` or ``<select>`` with ``<label for=...>``, in JupyterLab and in the HTML
  book alike, so the panels use :func:`number_box` and dropdowns.
- **A run button that can be read.** ``button_style="primary"`` is white on
  ``#2196f3``, a contrast of 3.1:1, under the 4.5:1 WCAG AA asks of text;
  :func:`run_button` uses :data:`BUTTON_COLOR` and :data:`BUTTON_TEXT_COLOR`.
- **Figures with alt text.** An image shown in an ``Output`` widget, or an
  ``ipywidgets.Image``, becomes an ``<img>`` with no ``alt``, and neither has a way
  to set one (``Image(tooltip=...)`` only adds a ``title``). :class:`FigureWithAlt`
  displays the PNG as HTML, ``<img alt="...">``, with the alt text as its plain-text
  form.
"""

from __future__ import annotations

import base64
import html
import io

BUTTON_COLOR = "#1565c0"  # a darker blue than button_style="primary" (#2196f3)
BUTTON_TEXT_COLOR = "#ffffff"
WCAG_AA_TEXT = 4.5  # the least contrast WCAG 2 level AA asks of normal text


def _luminance(color: str) -> float:
    """Return the WCAG relative luminance of a ``#rrggbb`` colour."""
    if len(color) != 7 or not color.startswith("#"):
        raise ValueError(f"color must be '#rrggbb', got {color!r}")
    channels = [int(color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: str, background: str) -> float:
    """Return the WCAG 2 contrast ratio of two ``#rrggbb`` colours, from 1 to 21.

    >>> round(contrast_ratio("#ffffff", "#2196f3"), 2)  # ipywidgets' "primary" button
    3.12
    >>> round(contrast_ratio("#000000", "#ffffff"), 1)
    21.0
    """
    light, dark = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def run_button(description: str):
    """Return a button with a play icon whose text meets WCAG AA contrast on its colour."""
    import ipywidgets as widgets

    return widgets.Button(
        description=description, icon="play",
        style={"button_color": BUTTON_COLOR, "text_color": BUTTON_TEXT_COLOR},
    )


def number_box(description: str, value: int, low: int, high: int, step: int = 1):
    """Return a whole-number input from ``low`` to ``high`` whose description labels it."""
    import ipywidgets as widgets

    return widgets.BoundedIntText(
        value=value, min=low, max=high, step=step, description=description,
        style={"description_width": "initial"},
    )


def figure_png(fig) -> bytes:
    """Return a matplotlib figure as PNG bytes, at its own dpi, cropped to what it draws."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi, bbox_inches="tight")
    return buffer.getvalue()


class FigureWithAlt:
    """A PNG figure to display with its alt text: ``<img alt=...>`` in HTML, the alt text as plain text.

    >>> figure = FigureWithAlt(b"PNG bytes", "A timeline of two workers, one bar per step.")
    >>> figure
    A timeline of two workers, one bar per step.
    >>> 'alt="A timeline of two workers, one bar per step."' in figure._repr_html_()
    True
    """

    def __init__(self, png: bytes, alt: str) -> None:
        if not isinstance(png, bytes) or not png:
            raise TypeError("png must be the non-empty bytes of a PNG image")
        if not isinstance(alt, str) or not alt.strip():
            raise ValueError("alt must be a sentence saying what the figure shows")
        self.png, self.alt = png, alt

    def __repr__(self) -> str:
        return self.alt

    def _repr_html_(self) -> str:
        data = base64.b64encode(self.png).decode("ascii")
        return f'<img src="data:image/png;base64,{data}" alt="{html.escape(self.alt, quote=True)}">'


# The colours ipywidgets' CSS gives a button: (text, background) per button_style.
# "" is the plain grey button, its text rgba(0, 0, 0, 0.8) on #eeeeee seen as #303030.
BUTTON_STYLE_COLORS = {
    "": ("#303030", "#eeeeee"),
    "primary": ("#ffffff", "#2196f3"),
    "success": ("#ffffff", "#4caf50"),
    "info": ("#ffffff", "#00bcd4"),
    "warning": ("#ffffff", "#ff9800"),
    "danger": ("#ffffff", "#f44336"),
}
UNLABELLED_KINDS = ("IntSlider", "FloatSlider", "IntRangeSlider", "FloatRangeSlider", "FloatLogSlider",
                    "SelectionSlider", "SelectionRangeSlider", "ToggleButtons", "RadioButtons")


def button_colors(button) -> tuple[str, str]:
    """Return the (text, background) colours a button is drawn with, as ``#rrggbb``."""
    text, background = BUTTON_STYLE_COLORS[button.button_style]
    return button.style.text_color or text, button.style.button_color or background


def accessibility_problems(widget) -> list[str]:
    """Return what in a widget tree a screen reader or a low-vision reader could not use ([] if nothing).

    Controls whose description ipywidgets does not tie to them (sliders,
    ``ToggleButtons``, ``RadioButtons``), input controls with no description,
    ``ipywidgets.Image`` (it has no alt text), and buttons whose text contrast is
    under :data:`WCAG_AA_TEXT`.
    """
    import ipywidgets as widgets

    problems = []
    kind = type(widget).__name__
    if kind in UNLABELLED_KINDS:
        problems.append(f"{kind} {widget.description!r}: its description labels nothing; use a Dropdown or number_box")
    elif isinstance(widget, (widgets.Dropdown, widgets.BoundedIntText, widgets.IntText, widgets.Text)):
        if not widget.description.strip():
            problems.append(f"{kind} with no description: nothing labels it")
    elif isinstance(widget, widgets.Image):
        problems.append("an ipywidgets.Image has no alt text; display a FigureWithAlt in an Output instead")
    elif isinstance(widget, widgets.Button):
        ratio = contrast_ratio(*button_colors(widget))
        if ratio < WCAG_AA_TEXT:
            problems.append(f"button {widget.description!r}: text contrast {ratio:.2f}:1, under {WCAG_AA_TEXT}:1")
    for child in getattr(widget, "children", ()):
        problems += accessibility_problems(child)
    return problems
