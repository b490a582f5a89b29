"""Tests of helpers.lab.bench_panel: the panel measures, redraws and refuses bad settings."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from helpers.lab.bench_panel import BenchPanel  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_panel_runs_and_redraws():
    panel = BenchPanel(workload="io", size=10, max_workers=2, tasks=2, repeats=1)
    assert panel.size.value == 10 and panel.max_workers.value == 2
    panel.workload.value = "cpu"  # switching workload resets the size slider to that workload's range
    assert (panel.size.min, panel.size.value) == (1_000, 60_000)
    panel.workload.value = "io"
    panel.size.value = 10
    result = panel.run()
    assert panel.result is result and result.workload == "io" and result.workers("processes") == [1, 2]
    assert panel.progress.value == panel.progress.max == 5
    assert panel.status.value.startswith("Done") and not panel.button.disabled
    with pytest.raises(ValueError, match="workload must be one of"):
        BenchPanel(workload="gpu")
    with pytest.raises(ValueError, match="size must be from 1 to"):
        BenchPanel(size=0)
    with pytest.raises(ValueError, match="repeats must be from 1 to 100"):
        BenchPanel(repeats=0)
    with pytest.raises(TypeError, match="max_workers must be an int"):
        BenchPanel(max_workers=2.5)
