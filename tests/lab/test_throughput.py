"""Tests of helpers/lab/throughput.py: shapes, units and argument errors with tiny messages, never timings."""

from __future__ import annotations

import matplotlib
import pytest

from helpers.lab import throughput
from helpers.lab.throughput import FULL_SIZES, SMALL_SIZES, TRANSPORTS, Measurement

matplotlib.use("Agg")

TINY = dict(bytes_per_size=2048, max_messages=4, repeat=1)


@pytest.fixture(scope="module")
def rows():
    return throughput.run_benchmark([64, 1024], **TINY)


def test_one_row_per_transport_and_size_in_order(rows):
    assert [(r.transport, r.size) for r in rows] == [(t, s) for t in TRANSPORTS for s in (64, 1024)]
    assert all(isinstance(r, Measurement) and r.seconds > 0 for r in rows)
    assert [r.messages for r in rows if r.transport == "pipe"] == [4, 2]  # capped, then 2048 // 1024


def test_units(rows):
    row = Measurement("pipe", 1000, 50, 0.5)
    assert row.messages_per_s == 100
    assert row.mb_per_s == pytest.approx(0.1)
    for r in rows:
        assert r.mb_per_s == pytest.approx(r.messages_per_s * r.size / 1e6)


def test_a_subset_of_transports_and_one_size():
    rows = throughput.run_benchmark([256], ["queue", "copy"], **TINY)
    assert [(r.transport, r.size) for r in rows] == [("queue", 256), ("copy", 256)]
    assert throughput.run_benchmark([64], "pipe", **TINY)[0].transport == "pipe"


def test_sizes_of_the_sweeps():
    assert FULL_SIZES[0] == 64 and FULL_SIZES[-1] == 64 * 1024 * 1024
    assert all(b == 4 * a for a, b in zip(FULL_SIZES, FULL_SIZES[1:]))
    assert SMALL_SIZES == FULL_SIZES[: len(SMALL_SIZES)] and SMALL_SIZES[-1] == 1024 * 1024


@pytest.mark.parametrize(
    "args, kwargs, error, text",
    [
        ([[]], {}, ValueError, "sizes must not be empty"),
        ([[0]], {}, ValueError, r"sizes\[0\] must be from 1 to 1073741824"),
        ([[64, 2**31]], {}, ValueError, r"sizes\[1\]"),
        ([[64.0]], {}, TypeError, r"sizes\[0\] must be an int"),
        (["64"], {}, TypeError, "sizes must be a list of ints"),
        ([[64], ["carrier pigeon"]], {}, ValueError, "transport must be one of .*got 'carrier pigeon'"),
        ([[64], []], {}, ValueError, "transports must not be empty"),
        ([[64]], {"repeat": 0}, ValueError, "repeat must be from 1 to 100"),
        ([[64]], {"bytes_per_size": 0}, ValueError, "bytes_per_size must be at least 1"),
        ([[64]], {"max_messages": 1}, ValueError, "max_messages must be at least 2"),
    ],
)
def test_bad_arguments(args, kwargs, error, text):
    with pytest.raises(error, match=text):
        throughput.run_benchmark(*args, **kwargs)


def test_messages_for():
    assert throughput.messages_for(64) == throughput.DEFAULT_MAX_MESSAGES
    assert throughput.messages_for(1024, bytes_per_size=10 * 1024) == 10
    assert throughput.messages_for(10**9) == throughput.DEFAULT_MIN_MESSAGES


def test_ratios_to_copy(rows):
    ratios = throughput.ratios_to_copy(rows, 1024)
    assert set(ratios) == {"pipe", "queue", "shared_memory"}
    assert all(ratio > 0 for ratio in ratios.values())
    made_up = [Measurement("copy", 64, 10, 1.0), Measurement("queue", 64, 10, 2.0)]
    assert throughput.ratios_to_copy(made_up, 64) == {"queue": 0.5}
    with pytest.raises(ValueError, match="no 'copy' measurement at size 64"):
        throughput.ratios_to_copy([Measurement("pipe", 64, 1, 1.0)], 64)


def test_sizes_parse_and_format():
    assert throughput.parse_size("64MiB") == 64 * 1024 * 1024
    assert throughput.parse_size(" 256 KiB ") == 256 * 1024
    assert throughput.format_size(64 * 1024 * 1024) == "64 MiB"
    assert throughput.format_size(1500) == "1500 B"
    with pytest.raises(ValueError, match="size must look like"):
        throughput.parse_size("64 MB")


def test_format_table(rows):
    lines = throughput.format_table(rows).splitlines()
    assert lines[0].split() == ["transport", "size", "messages/s", "MB/s"]
    assert len(lines) == len(rows) + 1
    assert lines[1].split()[:3] == ["copy", "64", "B"]


def test_plot_throughput(rows):
    import matplotlib.pyplot as plt

    left, right = throughput.plot_throughput(rows, title="test")
    assert left.get_yscale() == right.get_yscale() == "log"
    assert "message size" in left.get_xlabel() and "MB/s" in right.get_ylabel()
    assert len(right.get_lines()) == len(TRANSPORTS)
    assert "in-process copy (reference)" in [t.get_text() for t in right.get_legend().get_texts()]
    assert tuple(left.figure.get_size_inches()) == (8, 3.5)
    plt.close(left.figure)
    with pytest.raises(ValueError, match="rows is empty"):
        throughput.plot_throughput([])


def test_plot_says_where_it_was_measured(rows):
    import matplotlib.pyplot as plt

    from helpers.lab.machine import machine_label

    left, _ = throughput.plot_throughput(rows)
    assert machine_label() in left.figure.get_suptitle()
    plt.close(left.figure)


def test_script_prints_the_ratios_at_the_largest_size(capsys):
    assert throughput.main(["--max-size", "4KiB", "--bytes-per-size", "8KiB", "--repeat", "1", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "Bandwidth at 4 KiB as a fraction of in-process copy" in out
    for label in ("shared memory", "Pipe", "Queue"):
        assert any(line.strip().startswith(label) and line.rstrip().endswith("x") for line in out.splitlines())


def test_script_rejects_a_bad_size():
    with pytest.raises(SystemExit):
        throughput.main(["--max-size", "12"])
    with pytest.raises(SystemExit):
        throughput.main(["--max-size", "lots"])
