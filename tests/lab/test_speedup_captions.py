"""Tests of helpers.lab.speedup_captions: each sentence states what the numbers show, whatever they are."""

from __future__ import annotations

from helpers.lab.speedup_captions import efficiency_caption, speedup_caption, summary_caption
from tests.lab.test_bench_results import fake


def test_speedup_caption_reports_the_whole_core_point_and_the_best():
    slow = fake(2.0, threads=[2.0, 2.2], processes=[2.0, 1.6, 1.5, 1.7])  # processes barely win
    assert speedup_caption(slow).startswith("Processes: 1.25x with 2 workers, 62% of the ideal at the 2 whole cores")
    assert "at most 1.33x (3 workers)" in speedup_caption(slow)
    assert "threads (GIL-bound): from 0.91x to 1.00x." in speedup_caption(slow)
    hyper = fake(2.0, processes=[2.0, 1.0, 0.7, 0.5, 0.5, 0.45, 0.45, 0.45], cpus=8, cores=4)
    assert "4.00x with 4 workers, 100% of the ideal at the 4 whole" in speedup_caption(hyper)
    assert speedup_caption(fake(2.0, threads=[2.0])) == "threads (GIL-bound): from 1.00x to 1.00x."


def test_efficiency_caption_shows_a_baseline_that_ran_slow():
    """A serial run slower than one worker shows as efficiency above 1: the caption must say so, not hide it."""
    text = efficiency_caption(fake(2.2, processes=[2.0, 1.0, 0.9, 0.8]))
    assert text == ("processes: efficiency 1.10 with 1 worker, 1.10 with 2 (the whole cores here), 0.69 with 4; "
                    "highest 1.10.")
    assert efficiency_caption(fake(1.0)) == "no processes measured"


def test_summary_caption_orders_each_workload_by_speedup_and_counts_start_up_too():
    results = {"pure\nPython": fake(2.0, threads=[2.0, 2.0], processes=[2.0, 1.05], startup=0.5),
               "waiting": fake(2.0, threads=[2.0, 1.0], processes=[2.0, 1.1], startup=0.5)}
    lines = summary_caption(results, 2).splitlines()
    assert lines[0] == "pure Python: processes 1.90x, threads 1.00x; counting start-up, processes 1.29x, threads 0.80x."
    assert lines[1].startswith("waiting: threads 2.00x, processes 1.82x;")
