"""Tests of helpers.lab.bench_plan: worker counts that split the tasks evenly, and the expectation."""

from __future__ import annotations

import math

import pytest

from helpers.lab.bench_plan import default_worker_counts, even_task_count, expectation
from helpers.lab.bench_results import uneven_counts


@pytest.mark.parametrize(("cpus", "cores"), [(1, 1), (2, 2), (4, 2), (6, 6), (8, 4), (10, 10), (14, 7), (16, 8), (64, 32)])
def test_default_counts_reach_twice_the_cpus_include_cpus_and_cores_and_keep_the_task_count_small(cpus, cores):
    counts = default_worker_counts(cpus=cpus, cores=cores)
    assert counts[0] == 1 and counts[-1] == max(4, 2 * cpus) and cpus in counts and cores in counts
    assert counts == sorted(set(counts))
    tasks = even_task_count(counts, 96)
    assert uneven_counts(tasks, counts) == [] and tasks <= 960  # a few hundred tasks at most
    assert tasks == math.lcm(*counts) * math.ceil(96 / math.lcm(*counts))


def test_twelve_tasks_on_eight_workers_take_two_rounds_like_six():
    """The effect the even counts avoid: 7 to 11 workers all need two rounds of 12 tasks."""
    assert uneven_counts(12, range(1, 13)) == [5, 7, 8, 9, 10, 11]
    assert {math.ceil(12 / n) for n in range(6, 12)} == {2}


def test_max_workers_is_honoured_and_checked():
    assert default_worker_counts(5, cpus=2, cores=2) == [1, 2, 3, 4, 5]
    assert default_worker_counts(1, cpus=8, cores=4) == [1]
    with pytest.raises(ValueError, match="max_workers must be from 1 to 256"):
        default_worker_counts(0, cpus=2, cores=2)
    with pytest.raises(ValueError, match=r"workers\[0\] must be from 1 to 256"):
        even_task_count([0])


def test_expectation_speaks_of_hyperthreads_only_where_there_are_fewer_cores():
    assert "physical cores" not in expectation(4, 4, gil=True)
    assert "physical cores" not in expectation(2, 32, gil=True)  # a quota of 2 on a big host: 2 whole cores
    assert "on 4 physical cores" in expectation(8, 4, gil=True)
