"""Tests of helpers.lab.panels: what makes the widget panels usable by every reader."""

from __future__ import annotations

import ipywidgets as widgets
import pytest

from helpers.lab import panels
from helpers.lab.panels import (
    FigureWithAlt, accessibility_problems, button_colors, contrast_ratio, number_box, run_button,
)


def test_contrast_ratio_follows_wcag():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert contrast_ratio("#ffffff", "#2196f3") == pytest.approx(3.12, abs=0.005)  # what axe measured
    assert contrast_ratio("#2196f3", "#ffffff") == contrast_ratio("#ffffff", "#2196f3")
    with pytest.raises(ValueError, match="color must be '#rrggbb'"):
        contrast_ratio("white", "#000000")


def test_the_run_button_meets_wcag_aa_and_the_primary_style_does_not():
    button = run_button("Run")
    assert button_colors(button) == (panels.BUTTON_TEXT_COLOR, panels.BUTTON_COLOR)
    assert contrast_ratio(*button_colors(button)) >= panels.WCAG_AA_TEXT
    primary = widgets.Button(description="Run", button_style="primary")
    assert contrast_ratio(*button_colors(primary)) < panels.WCAG_AA_TEXT
    assert accessibility_problems(button) == []
    assert accessibility_problems(primary) == ["button 'Run': text contrast 3.12:1, under 4.5:1"]


def test_controls_a_screen_reader_cannot_name_are_reported_in_nested_boxes():
    good = widgets.VBox([widgets.HBox([number_box("Processes", 2, 1, 8),
                                       widgets.Dropdown(options=["a"], description="Method")]), run_button("Run")])
    assert accessibility_problems(good) == []
    bad = widgets.VBox([
        widgets.HBox([widgets.IntSlider(description="Processes")]),
        widgets.ToggleButtons(options=["a", "b"], description="Each step"),
        widgets.Dropdown(options=["a"]),
        widgets.Image(value=b"\x89PNG"),
    ])
    problems = accessibility_problems(bad)
    assert len(problems) == 4
    assert problems[0].startswith("IntSlider 'Processes'") and problems[1].startswith("ToggleButtons 'Each step'")
    assert "no description" in problems[2] and "no alt text" in problems[3]


def test_number_box_is_bounded():
    box = number_box("Processes", 2, 1, 8)
    assert (box.min, box.max, box.value, box.description) == (1, 8, 2, "Processes")
    box.value = 100
    assert box.value == 8


def test_a_figure_displays_as_an_image_with_its_alt_text():
    figure = FigureWithAlt(b"\x89PNG...", 'Two bars, "serial" and "pool", of equal height.')
    html = figure._repr_html_()
    assert html.startswith('<img src="data:image/png;base64,iVBORy4uLg==" ')
    assert 'alt="Two bars, &quot;serial&quot; and &quot;pool&quot;, of equal height."' in html
    assert repr(figure) == figure.alt
    with pytest.raises(ValueError, match="alt must be a sentence"):
        FigureWithAlt(b"\x89PNG", " ")
    with pytest.raises(TypeError, match="png must be"):
        FigureWithAlt("not bytes", "A figure of nothing at all.")


def test_figure_png_renders_a_matplotlib_figure():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1), dpi=50)
    fig.add_subplot().plot([0, 1])
    assert panels.figure_png(fig).startswith(b"\x89PNG")
