"""Start, watch and stop processes: the workers and tools of the chapter on ``Process``.

Workers (the functions children run) report what they did instead of printing it:
the timeline workers put :class:`helpers.timeline.Span` objects on a queue, the
start-method lab reports what the child sees, the logging worker logs through a
queue. The rest is plumbing the chapter keeps out of its cells: measuring the
cost of starting a process, running a script in a fresh interpreter, capturing
what spawned children write to standard error, and the interactive panel.

Nothing here runs at import time: every child started with ``spawn`` or
``forkserver`` imports this module again, so it stays quick to import (matplotlib
and ipywidgets are imported inside the functions that draw).
"""

from __future__ import annotations

import contextlib
import io
import logging
import logging.handlers
import multiprocessing
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from helpers.timeline import Span, now

# Changed at run time by the chapter's start-method lab, to see which children notice.
SETTING = "as imported"
# A module-level threading lock: the lab holds it in the parent while a child starts.
THREAD_LOCK = threading.Lock()

METHOD_ORDER = ("fork", "spawn", "forkserver")
MAX_PROCESSES = 64


# ---------------------------------------------------------------- argument checks


def _check_int(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int from {low} to {high}, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be from {low} to {high}, got {value}")
    return value


def _check_seconds(name: str, value: object, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, got {value!r}")
    if not low < value <= high:
        raise ValueError(f"{name} must be more than {low} and at most {high} seconds, got {value}")
    return float(value)


def _check_method(method: object) -> str:
    available = multiprocessing.get_all_start_methods()
    if method not in available:
        raise ValueError(f"method must be one of {', '.join(available)} on this platform, got {method!r}")
    return method  # type: ignore[return-value]


def available_methods() -> list[str]:
    """Return the start methods this platform has, in the order fork, spawn, forkserver.

    >>> "spawn" in available_methods()
    True
    """
    available = multiprocessing.get_all_start_methods()
    return [m for m in METHOD_ORDER if m in available] + [m for m in available if m not in METHOD_ORDER]


# ---------------------------------------------------------------- simple workers


def noop() -> None:
    """Do nothing and return ``None``: a child whose whole cost is starting and stopping."""


def nap(seconds: float, done_path: str | None = None) -> None:
    """Sleep ``seconds`` (more than 0, at most 60), then create the file ``done_path`` if given.

    Returns ``None``. The file tells another process that the nap was finished,
    rather than cut short.
    """
    time.sleep(_check_seconds("seconds", seconds, 0, 60))
    if done_path is not None:
        Path(done_path).touch()


def square(x: int) -> int:
    """Return ``x * x``. Run by a ``Process``, the value is lost: nothing receives it.

    >>> square(7)
    49
    """
    return x * x


def put_square(queue, x: int) -> None:
    """Put ``{"x": x, "square": x * x, "pid": <this process's PID>}`` on ``queue``."""
    queue.put({"x": x, "square": x * x, "pid": os.getpid()})


def cube(x: int) -> int:
    """Return ``x ** 3``.

    >>> [cube(x) for x in (1, 2, 3)]
    [1, 8, 27]
    """
    return x**3


def sleep_forever(max_seconds: float = 300.0) -> None:
    """Sleep until stopped (by ``terminate()`` or ``kill()``); give up after ``max_seconds``.

    The limit is a safety net so that a forgotten child does not run for ever.
    """
    _check_seconds("max_seconds", max_seconds, 0, 3600)
    deadline = time.monotonic() + max_seconds
    while time.monotonic() < deadline:
        time.sleep(0.05)


def ignore_sigterm(ready, max_seconds: float = 300.0) -> None:
    """Ignore SIGTERM, set the event ``ready``, then sleep like :func:`sleep_forever`.

    ``terminate()`` sends SIGTERM, which this child ignores; only ``kill()``
    (SIGKILL, which no process can ignore) stops it. On Windows both are the same
    call and there is no SIGTERM to ignore.
    """
    if hasattr(signal, "SIGTERM") and sys.platform != "win32":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    ready.set()
    sleep_forever(max_seconds)


def _stderr_to(path: str | os.PathLike[str] | None) -> None:
    """Send this process's ``sys.stderr`` to the file ``path`` (replacing it), or nowhere if None."""
    sys.stderr = open(os.devnull if path is None else path, "w", encoding="utf-8")  # noqa: SIM115


def raise_error(message: str, *, stderr_path: str | None = None) -> None:
    """Raise ``ValueError(message)``: the child ends with exit code 1.

    ``multiprocessing`` prints the child's traceback to the child's ``sys.stderr``.
    With ``stderr_path``, that standard error is the file at this path (replaced), so the
    notebook can show what the child printed (in Jupyter, a child's standard error
    otherwise lands in whichever cell happens to be running, or nowhere).
    """
    if stderr_path is not None:
        _stderr_to(stderr_path)
    raise ValueError(message)


def mystery(case: int) -> None:
    """End in one of four ways, ``case`` 0 to 3, for the exit-code exercise.

    0 returns normally, 1 raises an exception, 2 calls ``sys.exit(2)``, 3 is killed by
    a signal (SIGKILL, as the kernel's out-of-memory killer would do). The child's
    standard error is discarded, so its traceback does not land in the notebook.
    """
    _check_int("case", case, 0, 3)
    _stderr_to(None)
    if case == 1:
        raise RuntimeError("something went wrong in the child")
    if case == 2:
        sys.exit(2)
    if case == 3:
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
        time.sleep(10)


# ---------------------------------------------------------------- timeline workers


def _lane() -> str:
    return f"{multiprocessing.current_process().name} (pid {os.getpid()})"


def _busy(seconds: float) -> None:
    """Keep a CPU busy until this thread has used ``seconds`` of CPU time.

    Thread time, not process time: a queue's feeder thread working at the same
    moment on another CPU must not shorten the step.
    """
    stop = time.thread_time() + seconds
    while time.thread_time() < stop:
        pass


def _steps(queue, labels: Sequence[str], step_seconds: float, busy: bool) -> None:
    step_seconds = _check_seconds("step_seconds", step_seconds, 0, 10)
    lane = _lane()
    for label in labels:
        start = now()
        if busy:
            _busy(step_seconds)
        else:
            time.sleep(step_seconds)
        queue.put(Span(lane, label, start, now()))


def count_numbers(queue, steps: int = 5, step_seconds: float = 0.2, *, busy: bool = False) -> None:
    """Count 0, 1, ... ``steps - 1``, one number per step, and report each step.

    Each step waits ``step_seconds`` (or, with ``busy=True``, computes for that much
    CPU time) and then puts a :class:`~helpers.timeline.Span` on ``queue``: lane
    ``"<process name> (pid <PID>)"``, label the number, start and end times.
    Returns ``None``; the ``steps`` spans on the queue are the result.
    """
    _check_int("steps", steps, 1, 1000)
    _steps(queue, [str(i) for i in range(steps)], step_seconds, busy)


def spell_letters(queue, letters: str = "ABCDE", step_seconds: float = 0.2, *, busy: bool = False) -> None:
    """Spell ``letters``, one letter per step, and report each step as :func:`count_numbers` does.

    Returns ``None``; one span per letter is put on ``queue``.
    """
    if not isinstance(letters, str) or not 1 <= len(letters) <= 1000:
        raise ValueError(f"letters must be a string of 1 to 1000 characters, got {letters!r}")
    _steps(queue, list(letters), step_seconds, busy)


def worker_name(span: Span) -> str:
    """Return the process name in a span's lane, without the PID (to colour spans by worker).

    >>> worker_name(Span("numbers (pid 12)", "0", 0.0, 1.0))
    'numbers'
    """
    return str(span.lane).split(" (pid ")[0]


def collect(queue, count: int, timeout: float = 30.0) -> list:
    """Return the next ``count`` items of ``queue``, waiting at most ``timeout`` seconds in all.

    Raises ``TimeoutError`` (saying how many items arrived) if they do not all come
    in time: a child that crashed never sends its part.
    """
    _check_int("count", count, 0, 1_000_000)
    _check_seconds("timeout", timeout, 0, 3600)
    import queue as queue_module

    deadline = time.monotonic() + timeout
    items = []
    while len(items) < count:
        try:
            items.append(queue.get(timeout=max(0.001, deadline - time.monotonic())))
        except queue_module.Empty:
            raise TimeoutError(f"got {len(items)} of {count} items in {timeout:g} s") from None
    return items


def _stop_all(children: Iterable) -> None:
    """Join each child briefly; kill any that is still alive. Never leaves one running."""
    for child in children:
        if child.pid is None:
            continue
        child.join(timeout=5)
        if child.is_alive():
            child.kill()
            child.join(timeout=5)


def run_workers(
    method: str | None = None,
    processes: int = 2,
    *,
    steps: int = 5,
    step_seconds: float = 0.2,
    busy: bool = False,
    timeout: float = 60.0,
) -> list[Span]:
    """Run ``processes`` timeline workers at once and return all their spans.

    Workers alternate between :func:`count_numbers` and :func:`spell_letters`, are
    named ``worker-1``, ``worker-2`` ..., each takes ``steps`` steps of
    ``step_seconds`` (sleeping, or computing with ``busy=True``), and are started
    with ``method`` (default: the current default start method).
    """
    method = _check_method(method or multiprocessing.get_start_method())
    _check_int("processes", processes, 1, MAX_PROCESSES)
    _check_int("steps", steps, 1, 100)
    _check_seconds("step_seconds", step_seconds, 0, 10)
    ctx = multiprocessing.get_context(method)
    queue = ctx.Queue()
    children = []
    for i in range(processes):
        if i % 2 == 0:
            target, args = count_numbers, (queue, steps, step_seconds)
        else:
            letters = "".join(chr(ord("A") + k % 26) for k in range(steps))
            target, args = spell_letters, (queue, letters, step_seconds)
        children.append(ctx.Process(target=target, args=args, kwargs={"busy": busy}, name=f"worker-{i + 1}"))
    try:
        for child in children:
            child.start()
        spans = collect(queue, processes * steps, timeout)
    finally:
        _stop_all(children)
        queue.close()
        queue.join_thread()
    return spans


def plot_runs(runs: Mapping[str, Iterable[Span]], *, title: str | None = None, fig=None):
    """Draw runs of the timeline workers one above the other and return the ``Figure``.

    Like :func:`helpers.timeline.plot_timelines`, with one colour per worker
    (its process name), whatever its PID.
    """
    from helpers.timeline import plot_timelines

    return plot_timelines(runs, title=title, color_by=worker_name, fig=fig)


# ---------------------------------------------------------------- exit codes


def _diagnose(exitcode: int | None) -> str:
    if exitcode is None:
        return "running"
    if exitcode == 0:
        return "success"
    if exitcode > 0:
        return f"exit {exitcode}"
    try:
        return f"signal {signal.Signals(-exitcode).name}"
    except ValueError:
        return f"signal {-exitcode}"


# ---------------------------------------------------------------- start methods


def report_view(queue, fd: int, file_id: tuple[int, int], path_entry: str, lock) -> None:
    """Report, as a dict on ``queue``, what this child sees of its parent's state.

    - ``"global"``: the value of this module's ``SETTING``.
    - ``"sys_path"``: whether ``path_entry`` is in ``sys.path``.
    - ``"file"``: whether descriptor ``fd`` is open here on the file whose
      ``(st_dev, st_ino)`` is ``file_id`` (the parent's open file).
    - ``"thread_lock"``: whether this module's ``THREAD_LOCK`` could be taken.
    - ``"mp_lock"``: whether the ``multiprocessing`` ``lock`` passed in could be taken.
    """
    try:
        info = os.fstat(fd)
        file_open = (info.st_dev, info.st_ino) == tuple(file_id)
    except OSError:
        file_open = False
    thread_lock_free = THREAD_LOCK.acquire(timeout=0.1)
    if thread_lock_free:
        THREAD_LOCK.release()
    mp_lock_free = lock.acquire(timeout=0.1)
    if mp_lock_free:
        lock.release()
    queue.put(
        {
            "pid": os.getpid(),
            "global": SETTING,
            "sys_path": path_entry in sys.path,
            "file": file_open,
            "thread_lock": thread_lock_free,
            "mp_lock": mp_lock_free,
        }
    )


VIEW_ROWS = {
    "global": ("1. global SETTING", lambda v: repr(v)),
    "sys_path": ("2. new sys.path entry", lambda v: "present" if v else "missing"),
    "file": ("3. parent's open file", lambda v: "open" if v else "not open"),
    "thread_lock": ("4. held threading.Lock", lambda v: "free (new)" if v else "HELD (copy)"),
    "mp_lock": ("5. held mp.Lock", lambda v: "free" if v else "held (shared)"),
}


def show_views(views: Mapping[str, Mapping[str, object]]) -> None:
    """Print, as a table, what a child saw under each start method (``{method: view}``)."""
    methods = [m for m in available_methods() if m in views] + [m for m in views if m not in METHOD_ORDER]
    cells = {key: [fmt(views[m][key]) for m in methods] for key, (_, fmt) in VIEW_ROWS.items()}
    width = max(len(label) for label, _ in VIEW_ROWS.values())
    columns = [max(len(m), *(len(cells[key][i]) for key in VIEW_ROWS)) + 2 for i, m in enumerate(methods)]
    print(f"{'what the child sees':<{width}}  " + "".join(f"{m:<{w}}" for m, w in zip(methods, columns)).rstrip())
    for key, (label, _) in VIEW_ROWS.items():
        print(f"{label:<{width}}  " + "".join(f"{c:<{w}}" for c, w in zip(cells[key], columns)).rstrip())


def expected_view(method: str, changed: str) -> dict[str, object]:
    """Return what :func:`report_view` must report under ``method`` in the chapter's lab.

    ``changed`` is the value the parent gave ``SETTING``. Only ``fork`` copies the
    parent's memory (its globals, its open descriptors, its locked lock); every
    method gets ``sys.path`` from the parent (fork by copying, spawn and forkserver
    because ``multiprocessing`` sends it), and a ``multiprocessing`` lock is one
    lock shared by all.
    """
    forked = method == "fork"
    return {
        "global": changed if forked else "as imported",
        "sys_path": True,
        "file": forked,
        "thread_lock": not forked,
        "mp_lock": False,
    }


def start_cost(method: str, repeats: int = 5, *, warmup: int = 1, timeout: float = 30.0) -> list[float]:
    """Return the seconds it took, ``repeats`` times, to start and join one child doing nothing.

    The first ``warmup`` starts are not counted: they pay one-time costs (the fork
    server starting, files entering the disk cache). Raises ``RuntimeError`` if a
    child fails or does not end within ``timeout`` seconds.
    """
    ctx = multiprocessing.get_context(_check_method(method))
    _check_int("repeats", repeats, 1, 1000)
    _check_int("warmup", warmup, 0, 100)
    _check_seconds("timeout", timeout, 0, 600)
    costs = []
    for i in range(warmup + repeats):
        child = ctx.Process(target=noop)
        begin = time.perf_counter()
        child.start()
        child.join(timeout)
        elapsed = time.perf_counter() - begin
        if child.exitcode != 0:
            _stop_all([child])
            raise RuntimeError(f"a {method} child ended with exit code {child.exitcode}")
        if i >= warmup:
            costs.append(elapsed)
    return costs


def measure_start_costs(methods: Sequence[str] | None = None, repeats: int = 5) -> dict[str, list[float]]:
    """Return ``{method: [seconds, ...]}``: :func:`start_cost` for each method (default: all)."""
    methods = available_methods() if methods is None else [_check_method(m) for m in methods]
    if not methods:
        raise ValueError("methods must name at least one start method")
    return {method: start_cost(method, repeats) for method in methods}


def format_seconds(seconds: float) -> str:
    """Return a duration for people: ``"850 µs"``, ``"12.3 ms"``, ``"1.25 s"``.

    >>> format_seconds(0.0123), format_seconds(1.25), format_seconds(0.00085)
    ('12.3 ms', '1.25 s', '850 µs')
    """
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def summarize_start_costs(costs: Mapping[str, Sequence[float]]) -> list[str]:
    """Return one line per method: median, then the spread (fastest to slowest) of its runs."""
    lines = []
    for method, runs in costs.items():
        if not runs:
            raise ValueError(f"costs[{method!r}] is empty")
        lines.append(
            f"{method + ':':<12}median {format_seconds(statistics.median(runs))}"
            f" (fastest {format_seconds(min(runs))}, slowest {format_seconds(max(runs))}, {len(runs)} runs)"
        )
    return lines


def plot_start_costs(costs: Mapping[str, Sequence[float]], *, ax=None, title: str | None = None):
    """Draw each run's start cost as a dot and each method's median as a bar; return the ``Axes``.

    The x axis is logarithmic: the methods differ by orders of magnitude.
    """
    import matplotlib.pyplot as plt

    from helpers.timeline import measured_on

    if not costs or any(not runs for runs in costs.values()):
        raise ValueError("costs must map at least one method to a non-empty list of seconds")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.9 + 0.6 * len(costs)), dpi=100)
    methods = list(costs)
    for row, method in enumerate(methods):
        runs = list(costs[method])
        ax.scatter(runs, [row] * len(runs), s=18, alpha=0.6, color="tab:blue", zorder=3)
        ax.plot([statistics.median(runs)] * 2, [row - 0.3, row + 0.3], color="black", linewidth=2, zorder=4)
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    every = [c for runs in costs.values() for c in runs]
    ax.set_xscale("log")
    ax.set_xlim(min(every) / 2, max(every) * 2)
    ax.xaxis.set_major_locator(LogLocator(base=10))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: format_seconds(x)))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(range(len(methods)), methods)
    ax.set_ylim(len(methods) - 0.5, -0.5)
    ax.set_xlabel("time to start and join one process (log scale)")
    ax.set_ylabel("start method")
    ax.grid(axis="x", which="both", alpha=0.3)
    ax.set_title(title or f"Start cost, dots: runs, bar: median ({measured_on()})", fontsize=10)
    return ax


# ---------------------------------------------------------------- scripts and child stderr


class Captured:
    """Text captured by :func:`capture_child_stderr`, readable once the block has ended."""

    def __init__(self) -> None:
        self.text = ""

    def exception_lines(self) -> list[str]:
        """Return the lines of the last exception in the captured text (see :func:`exception_lines`)."""
        return exception_lines(self.text)


@contextlib.contextmanager
def capture_child_stderr() -> Iterator[Captured]:
    """Point file descriptor 2 at a temporary file for the block; yield what was written there.

    A child started with ``spawn`` inside the block inherits that descriptor as its
    standard error, so what it prints there (a traceback, say) is captured instead of
    landing in some notebook cell. Read ``.text`` after the block. Children of a
    fork server do not inherit it: they get the server's standard error.
    """
    captured = Captured()
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as file:
        os.dup2(file.fileno(), 2)
        try:
            yield captured
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            file.seek(0)
            captured.text = file.read().decode("utf-8", errors="replace")


_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning|ProcessPool)):?( |$)")


def exception_lines(text: str, max_lines: int = 3) -> list[str]:
    """Return the last exception in a traceback ``text``: its first line and what follows, stripped.

    At most ``max_lines`` non-empty lines; ``[]`` if there is no exception line.

    >>> exception_lines("Traceback (most recent call last):\\n  File 'x'\\nValueError: bad\\n")
    ['ValueError: bad']
    """
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if _EXCEPTION_LINE.match(line)]
    if not starts:
        return []
    found = [line.strip() for line in lines[starts[-1]:] if line.strip()]
    return found[:max_lines]


def _python_path_env() -> dict[str, str]:
    root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    return env


def run_script(source: str, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    """Run ``source`` as a script ``script.py`` in a fresh Python interpreter; return the result.

    The script can import ``helpers``. Its output is in ``.stdout`` and ``.stderr``
    (text), its exit status in ``.returncode``. Raises ``subprocess.TimeoutExpired``
    after ``timeout`` seconds (the script is then killed).
    """
    if not isinstance(source, str) or not source.strip():
        raise ValueError("source must be the non-empty text of a Python script")
    _check_seconds("timeout", timeout, 0, 600)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "script.py"
        path.write_text(source, encoding="utf-8")
        return subprocess.run(
            [sys.executable, str(path), *map(str, args)],
            capture_output=True, text=True, timeout=timeout, env=_python_path_env(), cwd=folder,
        )


PARENT_SCRIPT = '''\
import multiprocessing
import sys
import time

from helpers.processes import nap

if __name__ == "__main__":
    method, seconds, kind, done_file = sys.argv[1:5]
    multiprocessing.set_start_method(method)
    child = multiprocessing.Process(
        target=nap, args=(float(seconds), done_file), daemon=kind == "daemon"
    )
    child.start()
    print(child.pid, time.time(), flush=True)
    # The main program ends here, without join(): what happens to the child?
'''


def _pid_alive(pid: int) -> bool | None:
    if sys.platform == "win32":
        return None  # os.kill on Windows would terminate the process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def parent_exits(daemon: bool, *, child_seconds: float = 1.0, method: str | None = None) -> dict[str, object]:
    """Run :data:`PARENT_SCRIPT`: a parent that starts one child and ends without joining it.

    The child naps ``child_seconds``, then leaves a file to say it finished. Returns
    ``{"daemon", "parent_waited", "child_finished", "child_alive_after"}``: how many
    seconds the parent took to exit after its main program ended, whether the child
    finished its nap, and whether the child was still running once the parent had
    exited (``None`` on Windows, where this helper cannot tell). A child found still
    running is killed, so none is left behind.
    """
    if not isinstance(daemon, bool):
        raise TypeError(f"daemon must be True or False, got {daemon!r}")
    _check_seconds("child_seconds", child_seconds, 0, 10)
    method = _check_method(method or multiprocessing.get_start_method())
    with tempfile.TemporaryDirectory() as folder:
        done_file = Path(folder) / "nap-finished"
        result = run_script(PARENT_SCRIPT, method, str(child_seconds), "daemon" if daemon else "normal",
                            str(done_file), timeout=30 + child_seconds)
        exited = time.time()
        finished = done_file.exists()
    if result.returncode != 0 or not result.stdout.strip():
        raise RuntimeError(f"the parent script failed:\n{result.stderr[-2000:]}")
    pid_text, ended_text = result.stdout.split()[:2]
    pid = int(pid_text)
    alive = _pid_alive(pid)
    if alive:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return {
        "daemon": daemon,
        "parent_waited": exited - float(ended_text),
        "child_finished": finished,
        "child_alive_after": alive,
    }


# ---------------------------------------------------------------- logging through a queue


def log_progress(queue, steps: int = 3, logger_name: str = "mpbook.worker") -> None:
    """Log ``steps`` INFO messages ("step 1 of 3" ...) through ``queue`` with a ``QueueHandler``.

    The logger named ``logger_name`` gets the queue handler as its only handler and
    does not pass records to its parents, so the same records never also reach a
    handler inherited from the parent (under fork) or Python's last-resort handler.
    Returns ``None``; the parent formats and shows the records (a ``QueueListener``).
    """
    _check_int("steps", steps, 1, 1000)
    logger = logging.getLogger(logger_name)
    logger.handlers[:] = [logging.handlers.QueueHandler(queue)]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    for step in range(1, steps + 1):
        logger.info("step %d of %d", step, steps)
        time.sleep(0.01)


class ListHandler(logging.Handler):
    """A logging handler that keeps each formatted record in ``.lines`` (a list of str)."""

    def __init__(self, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


# ---------------------------------------------------------------- exercise checks


def check_child_result(answer: object, x: int) -> bool:
    """Exercise check: is ``answer`` what :func:`put_square` sent for ``x``, from another process?"""
    from helpers.exercises import feedback

    if not isinstance(answer, dict):
        return feedback(False, "", f"answer should be the dict the child put on the queue; you gave a {type(answer).__name__}.")
    if answer.get("x") != x or answer.get("square") != x * x:
        return feedback(False, "", f"The dict should be about x={x}: did the child get args=(queue, {x})?")
    return feedback(
        answer.get("pid") != os.getpid(),
        f"Right: a child (pid {answer.get('pid')}) computed {x * x} and sent it back.",
        "That dict was made in this process, not sent by a child: start a Process and get the dict from the queue.",
    )


def check_diagnose(diagnose: Callable[[int | None], str]) -> bool:
    """Exercise check: does ``diagnose(exitcode)`` describe every kind of exit code rightly?"""
    from helpers.exercises import feedback

    if not callable(diagnose):
        return feedback(False, "", f"Pass your function itself, not {type(diagnose).__name__}.")
    cases = [None, 0, 1, 2, 3, -int(signal.SIGTERM)]
    if hasattr(signal, "SIGKILL"):
        cases.append(-int(signal.SIGKILL))
    for code in cases:
        try:
            given = diagnose(code)
        except Exception as error:  # noqa: BLE001 - any error is feedback for the learner
            return feedback(False, "", f"diagnose({code!r}) raised {type(error).__name__}: {error}")
        if given != _diagnose(code):
            return feedback(False, "", f"diagnose({code!r}) returned {given!r}; look again at what that code means.")
    return feedback(True, f"Right for all of {cases}.", "")


def check_three_together(spans: Sequence[Span]) -> bool:
    """Exercise check: do ``spans`` come from three different processes, all running at once?"""
    from helpers.exercises import feedback
    from helpers.timeline import check_spans, max_concurrency

    try:
        spans = check_spans(spans)
    except (TypeError, ValueError) as error:
        return feedback(False, "", f"spans should be the list of Spans you collected: {error}")
    lanes = {s.lane for s in spans}
    if len(lanes) != 3:
        return feedback(False, "", f"Found spans from {len(lanes)} processes; start three.")
    return feedback(
        max_concurrency(spans) == 3,
        "Right: three processes, and at one moment all three were working.",
        "The three processes never all ran at once: start all three before you collect and join.",
    )


def check_cheapest_method(answer: object, costs: Mapping[str, Sequence[float]]) -> bool:
    """Exercise check: is ``answer`` the method with the lowest median start cost in ``costs``?"""
    from helpers.exercises import feedback

    if answer not in costs:
        return feedback(False, "", f"Answer with one of {list(costs)}, as a string; you gave {answer!r}.")
    cheapest = min(costs, key=lambda m: statistics.median(costs[m]))
    return feedback(
        answer == cheapest,
        "Right: by its median, that method starts a process fastest on this machine.",
        f"Not {answer!r}: compare the medians, not the single fastest run.",
    )


def check_log_lines(lines: Sequence[str], names: Sequence[str], steps: int) -> bool:
    """Exercise check: did each named process log "step 1 of N" ... "step N of N", in order?"""
    from helpers.exercises import feedback

    if not isinstance(lines, (list, tuple)) or not all(isinstance(line, str) for line in lines):
        return feedback(False, "", "lines should be the list of formatted log lines your handler kept.")
    for name in names:
        mine = [line for line in lines if line.startswith(f"{name}:")]
        wanted = [f"{name}: step {i} of {steps}" for i in range(1, steps + 1)]
        if mine != wanted:
            return feedback(
                False, "",
                f"For {name!r} the lines were {mine}; expected {wanted}. Format records as '%(processName)s: %(message)s'.",
            )
    return feedback(
        True,
        "Right: every record arrived, each process's in its order.",
        "",
    )


# ---------------------------------------------------------------- the panel


def _figure_png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi, bbox_inches="tight")
    return buffer.getvalue()


def panel_run(method: str, processes: int, *, busy: bool = False, steps: int = 5,
              step_seconds: float = 0.2, repeats: int = 3) -> dict[str, object]:
    """Run what the panel runs and return ``{"spans", "costs", "figure_png", "summary"}``.

    :func:`run_workers` with ``method`` and ``processes``, then :func:`start_cost`
    (``repeats`` runs) for the same method; the figure is the timeline, as PNG bytes.
    """
    from matplotlib.figure import Figure

    from helpers.timeline import max_concurrency, measured_on, wall_time

    spans = run_workers(method, processes, steps=steps, step_seconds=step_seconds, busy=busy)
    costs = start_cost(method, repeats)
    work = "computing" if busy else "sleeping"
    fig = Figure(figsize=(6, 1.6 + 0.4 * processes), dpi=100)
    plot_runs({f"{processes} process{'es' if processes > 1 else ''} {work}": spans},
              title=f"Timeline with {method} ({measured_on()})", fig=fig)
    summary = (
        f"{method}, {processes} process{'es' if processes > 1 else ''}, {steps} steps of "
        f"{format_seconds(step_seconds)} {work}: wall time {format_seconds(wall_time(spans))}, "
        f"at most {max_concurrency(spans)} at once\n"
        f"start and join one process with {method}: median "
        f"{format_seconds(statistics.median(costs))} over {len(costs)} runs"
    )
    return {"spans": spans, "costs": costs, "figure_png": _figure_png(fig), "summary": summary}


def start_method_panel(*, processes: int = 2, max_processes: int = 8, run: bool = False):
    """Return an ipywidgets panel: pick a start method and a number of processes, run, look.

    Controls: a start-method dropdown (this platform's methods, the current default
    selected), a process-count slider (1 to ``max_processes``), sleeping or
    computing steps, and a Run button. Each run shows the timeline of the workers
    (:func:`run_workers`) and the start cost of the method (:func:`start_cost`) in
    the panel's output area. With ``run=True`` it runs once before it is returned.
    The panel's ``run()`` attribute runs it from code.
    """
    import ipywidgets as widgets
    from IPython.display import Image

    _check_int("max_processes", max_processes, 1, MAX_PROCESSES)
    _check_int("processes", processes, 1, max_processes)
    methods = available_methods()
    current = multiprocessing.get_start_method()
    wide = {"description_width": "initial"}
    method = widgets.Dropdown(options=methods, value=current if current in methods else methods[0],
                              description="Start method", style=wide)
    count = widgets.IntSlider(value=processes, min=1, max=max_processes, description="Processes", style=wide)
    work = widgets.ToggleButtons(options=["sleep", "compute"], value="sleep", description="Each step",
                                 style=wide)
    button = widgets.Button(description="Run", button_style="primary", icon="play")
    output = widgets.Output(layout={"min_height": "60px"})
    panel = widgets.VBox([widgets.HBox([method, count]), work, button, output])

    def do_run() -> dict[str, object]:
        """Run with the panel's current settings, show the result in it and return it."""
        button.disabled = True
        output.outputs = ()
        output.append_stdout(f"Running {count.value} process(es) with {method.value} ...\n")
        try:
            result = panel_run(method.value, count.value, busy=work.value == "compute")
        except Exception as error:
            output.outputs = ()
            output.append_stderr(f"The run failed: {type(error).__name__}: {error}\n")
            raise
        finally:
            button.disabled = False
        output.outputs = ()
        output.append_stdout(result["summary"] + "\n")
        output.append_display_data(Image(data=result["figure_png"], format="png"))
        return result

    def clicked(_button) -> None:
        with contextlib.suppress(Exception):  # the error is shown in the panel's output
            do_run()

    button.on_click(clicked)
    panel.run = do_run
    if run:
        do_run()
    return panel
