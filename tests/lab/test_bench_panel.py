"""Tests of helpers.lab.bench_panel: the panel measures, redraws and refuses bad settings."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from helpers.lab.bench_panel import BenchPanel, speedup_alt  # noqa: E402
from helpers.lab.bench_results import fake_result  # noqa: E402
from helpers.lab.panels import accessibility_problems, button_colors, contrast_ratio  # noqa: E402
from helpers.workloads import count_primes  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_panel_runs_and_redraws():
    panel = BenchPanel(workload="io", size=10, max_workers=2, tasks=2, repeats=1)
    assert panel.size.value == 10 and panel.max_workers.value == 2
    panel.workload.value = "cpu"  # switching workload resets the size box to that workload's range
    assert (panel.size.min, panel.size.value) == (1_000, 60_000)
    panel.workload.value = "io"
    panel.size.value = 10
    result = panel.run()
    assert panel.result is result and result.workload == "io" and result.workers("processes") == [1, 2]
    assert panel.progress.value == panel.progress.max == 5
    assert panel.status.value.startswith("Done") and not panel.button.disabled
    (figure,) = [o["data"] for o in panel.output.outputs]  # one <img> whose alt text says what it shows
    assert figure["text/plain"] == speedup_alt(result) and f'alt="{speedup_alt(result)}"' in figure["text/html"]
    assert figure["text/html"].startswith('<img src="data:image/png;base64,')
    with pytest.raises(ValueError, match="workload must be one of"):
        BenchPanel(workload="gpu")
    with pytest.raises(ValueError, match="size must be from 1 to"):
        BenchPanel(size=0)
    with pytest.raises(ValueError, match="repeats must be from 1 to 100"):
        BenchPanel(repeats=0)
    with pytest.raises(TypeError, match="max_workers must be an int"):
        BenchPanel(max_workers=2.5)


def test_panel_times_a_function_of_your_own():
    panel = BenchPanel(count_primes, tasks=[300] * 4, max_workers=2, repeats=1)
    assert panel.workload.value == "mine" and panel.size.disabled
    assert panel.workload.options[0] == ("helpers.workloads.count_primes (yours)", "mine")
    assert panel.unit.value == "your 4 tasks, as given"
    result = panel.run()
    assert result.workload == "helpers.workloads.count_primes" and result.tasks == 4
    assert result.workers("processes") == [1, 2]
    panel.workload.value = "io"  # the built-in ones are still there
    assert not panel.size.disabled
    with pytest.raises(TypeError, match="with a function, tasks must be a non-empty list of its arguments"):
        BenchPanel(count_primes)


def test_the_panel_is_labelled_for_screen_readers_and_its_button_is_readable():
    panel = BenchPanel(workload="io", size=10, max_workers=2)
    assert accessibility_problems(panel.widget) == []
    assert contrast_ratio(*button_colors(panel.button)) >= 4.5  # WCAG AA for text; button_style="primary" gives 3.12
    assert (panel.max_workers.description, panel.size.description) == ("max workers", "task size")


def test_the_alt_text_says_what_the_speedup_figure_shows_and_what_was_measured():
    alt = speedup_alt(fake_result(2.0, processes={3: 0.8}, startup=0.0))
    assert alt == (
        "Speedup over serial against the number of workers, 1 to 3, for processes on the workload "
        "count primes (pure Python), with a dashed line where speedup equals workers: "
        "with 3 workers, processes reached 2.50x."
    )
