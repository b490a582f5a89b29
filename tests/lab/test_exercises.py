"""check_worker runs a learner's worker in a child and says what is wrong, within its timeout."""

from __future__ import annotations

import time

import pytest

from tests.support import write_module

from helpers.lab.exercises import check_worker, run_worker

GOOD = "def cube(x: int) -> int:\n    return x ** 3\n"
CASES = [((2,), 8), ((3,), 27)]


def test_a_right_worker_passes(workdir, capsys):
    assert check_worker(write_module(workdir, "mine_good", GOOD), "cube", CASES) is True
    assert capsys.readouterr().out.startswith("✅")


@pytest.mark.parametrize(
    ("text", "function", "says"),
    [
        ("def cube(x):\n    return x * 3\n", "cube", r"cube\(2\) returned 6; expected 8"),
        ("def cube(x):\n    raise ValueError('nope')\n", "cube", r"cube\(2\) raised ValueError: nope"),
        ("def cube(x)\n    return x\n", "cube", "could not import"),
        ("import no_such_module_here\n", "cube", "No module named 'no_such_module_here'"),
        (GOOD, "square", "defines no function 'square'"),
        ("import threading\ndef cube(x):\n    return threading.Lock()\n", "cube", "PicklingError|TypeError"),
        ("import os\ndef cube(x):\n    os._exit(3)\n", "cube", "died with exit code 3"),
    ],
    ids=["wrong-result", "raises", "syntax-error", "bad-import", "missing-function", "unpicklable", "dies"],
)
def test_a_wrong_worker_fails_with_what_is_wrong(workdir, capsys, text, function, says):
    import re

    name = write_module(workdir, f"mine_{abs(hash(text)) % 10**8}", text)
    assert check_worker(name, function, CASES, timeout=30) is False
    out = capsys.readouterr().out
    assert out.startswith("❌") and re.search(says, out), out


def test_a_worker_that_hangs_fails_within_its_timeout_and_leaves_no_child(workdir, capsys):
    import multiprocessing

    name = write_module(workdir, "mine_hangs", "import time\ndef cube(x):\n    time.sleep(3600)\n")
    start = time.monotonic()
    assert check_worker(name, "cube", CASES, timeout=3) is False
    assert time.monotonic() - start < 15
    assert "did not finish within 3 s" in capsys.readouterr().out
    assert not multiprocessing.active_children()


def test_run_worker_reports_each_call(workdir):
    name = write_module(workdir, "mine_each", "def half(x):\n    return 10 // x\n")
    kind, outcomes = run_worker(name, "half", [(2,), (0,)])
    assert kind == "ran"
    assert outcomes[0] == ("ok", 5) and outcomes[1][0] == "raised" and "ZeroDivisionError" in outcomes[1][1]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"module": "my-workers"}, ValueError),
        ({"function": ""}, ValueError),
        ({"timeout": 0}, ValueError),
        ({"timeout": "5"}, TypeError),
    ],
)
def test_bad_arguments_fail_at_once(kwargs, error):
    args = {"module": "mine", "function": "cube", "timeout": 5.0} | kwargs
    with pytest.raises(error):
        run_worker(args["module"], args["function"], [(1,)], timeout=args["timeout"])


def test_check_worker_needs_cases():
    with pytest.raises(ValueError, match="at least one"):
        check_worker("mine", "cube", [])


# ------------------------------------------------ the classroom edition: no answer yet

def _checks():
    from helpers.lab.debug_checks import check_sigterm_cleanup
    from helpers.lab.ipc_checks import check_segment_filler, check_sentinel_consumer
    from helpers.lab.pools import check_initializer
    from helpers.lab.processes import check_count_lines
    from helpers.lab.sync_checks import check_event_waiter, check_lock_transfer

    return {
        "check_worker": lambda m: check_worker(m, "cube", CASES),
        "check_initializer": lambda m: check_initializer(m, initializer="init", initargs=(1,), task="cube", cases=CASES),
        "check_count_lines": check_count_lines,
        "check_sentinel_consumer": check_sentinel_consumer,
        "check_segment_filler": check_segment_filler,
        "check_lock_transfer": check_lock_transfer,
        "check_event_waiter": check_event_waiter,
        "check_sigterm_cleanup": check_sigterm_cleanup,
    }


@pytest.mark.parametrize("check", sorted(_checks()))
@pytest.mark.parametrize("text", [None, "", "# def cube(x):\n#     ...\n"], ids=["no-file", "empty", "comments"])
def test_every_check_of_a_module_says_not_answered_yet_for_an_empty_cell(workdir, capsys, check, text):
    import multiprocessing

    if text is not None:
        write_module(workdir, "mine_unanswered", text)
    start = time.monotonic()
    assert _checks()[check]("mine_unanswered") is False
    out = capsys.readouterr().out
    assert out.startswith("⏳ Not answered yet") and "%%writefile mine_unanswered.py" in out, out
    assert out.count("\n") == 1 and "❌" not in out
    assert time.monotonic() - start < 2  # nothing was started
    assert not multiprocessing.active_children()


def test_a_stub_with_code_is_an_answer_and_fails_as_before(workdir, capsys):
    name = write_module(workdir, "mine_stub", 'def cube(x: int) -> int:\n    """Return x cubed."""\n    ...  # your code here\n')
    assert check_worker(name, "cube", CASES) is False
    assert capsys.readouterr().out.startswith("❌ In a child process, cube(2) returned None")


def test_a_module_elsewhere_on_the_import_path_is_an_answer(workdir, tmp_path_factory, monkeypatch, capsys):
    from helpers.lab.exercises import not_answered

    other = tmp_path_factory.mktemp("elsewhere")
    write_module(other, "mine_elsewhere", GOOD)
    monkeypatch.syspath_prepend(str(other))
    assert not_answered("mine_elsewhere") is False
    assert capsys.readouterr().out == ""
