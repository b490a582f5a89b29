"""Instruments for the chapter "Debug and harden multiprocess code".

Read a stack dump a stuck child wrote, ask py-spy for one from outside, tell a
zombie from a running process, and run whole programs that may never exit (in a
subprocess, killed at a timeout): the book's classic "prints everything but never
exits" programs and the orphan whose parent dies are here, as script texts.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from helpers.lab.args import check_seconds
from helpers.lab.scripts import script_env, script_session

_FRAME = re.compile(r'File "([^"]+)", line (\d+) in (\S+)')


def read_dump(path: str, timeout: float = 10.0) -> str:
    """Return the text of the stack dump at ``path`` once it holds a frame; wait at most ``timeout`` s.

    Raises ``TimeoutError`` if no frame was written in time (the child never dumped).
    """
    check_seconds("timeout", timeout, 0, 600)
    deadline = time.monotonic() + timeout
    while True:
        text = Path(path).read_text(errors="replace") if os.path.exists(path) else ""
        if _FRAME.search(text):
            time.sleep(0.05)  # let the writer finish the dump it started
            return Path(path).read_text(errors="replace")
        if time.monotonic() > deadline:
            raise TimeoutError(f"no stack was written to {Path(path).name} within {timeout:g} s")
        time.sleep(0.02)


def first_stack(dump: str) -> str:
    """Return the first stack of a faulthandler dump: its header lines and its frames, up to the next header.

    A file that got two dumps (the watchdog's, then one on a signal) holds them one
    after the other, with no blank line between.
    """
    kept: list[str] = []
    for line in dump.strip().splitlines():
        is_frame = line.startswith("  File ")
        if not is_frame and any(k.startswith("  File ") for k in kept):
            break  # the header of the next stack
        kept.append(line)
    return "\n".join(kept)


def stack_functions(dump: str) -> list[str]:
    """Return the function names of the first stack in a faulthandler dump, innermost first.

    >>> stack_functions('Stack (most recent call first):\\n  File "w.py", line 3 in wait\\n  File "w.py", line 9 in main\\n')
    ['wait', 'main']
    """
    return [name for _, _, name in _FRAME.findall(first_stack(dump))]


def short_dump(dump: str) -> str:
    """Return the first stack of a faulthandler dump with each file shortened to its name, thread IDs hidden.

    Paths and thread IDs differ from machine to machine; the file names and lines do not.
    """
    text = _FRAME.sub(lambda m: f'File "{Path(m.group(1)).name}", line {m.group(2)} in {m.group(3)}', first_stack(dump))
    return re.sub(r"\b0x[0-9a-f]+\b", "0x...", text)


def py_spy_dump(pid: int, timeout: float = 20.0) -> tuple[bool, str]:
    """Ask py-spy for the stack of process ``pid``; return ``(True, stacks)`` or ``(False, why not)``.

    The stacks are py-spy's output from its first ``Thread`` line on.

    py-spy reads another process's memory, which needs ptrace permission: in many
    containers, on Binder, and on macOS without sudo it is refused. Then the message
    says so, and what to do instead.
    """
    check_seconds("timeout", timeout, 0.1, 600)
    found = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if not found:
        return False, "py-spy is not installed here (pip install py-spy): use the dump from inside instead."
    try:
        done = subprocess.run([found, "dump", "--pid", str(pid)], capture_output=True, text=True, timeout=timeout,
                              env=script_env())  # no colour codes
    except subprocess.TimeoutExpired:
        return False, f"py-spy did not answer within {timeout:g} s."
    if done.returncode != 0:
        reason = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no message"]
        return False, (f"py-spy could not read process {pid} ({reason[0]}). It needs ptrace permission, "
                       "often refused in containers, on Binder and on macOS without sudo: "
                       "use the dump from inside instead.")
    lines = done.stdout.splitlines()
    threads = next((i for i, line in enumerate(lines) if line.startswith("Thread ")), 0)
    return True, "\n".join(lines[threads:])  # the stacks, without the command line and the Python's path


def process_state(pid: int) -> str:
    """Return the operating system's state of ``pid``: ``"running"``, ``"sleeping"``, ``"zombie"``, or ``"gone"``."""
    import psutil

    try:
        return psutil.Process(pid).status()
    except psutil.NoSuchProcess:
        return "gone"


def wait_for_state(pid: int, state: str, timeout: float = 10.0) -> bool:
    """Wait up to ``timeout`` s until :func:`process_state` of ``pid`` is ``state``; return whether it got there."""
    check_seconds("timeout", timeout, 0, 600)
    deadline = time.monotonic() + timeout
    while process_state(pid) != state:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def run_to_exit(source: str, timeout: float = 3.0) -> tuple[bool, str]:
    """Run the program ``source`` in a fresh interpreter; return ``(exited, what happened)``.

    A program still running after ``timeout`` s is stopped with every process it
    started (SIGTERM, and SIGKILL 5 s later for what is left; the resource tracker
    unlinks what they leave), and ``exited`` is ``False``.
    """
    start = time.monotonic()
    try:
        with script_session(source, timeout=timeout, grace=5) as session:
            result = session.result
    except subprocess.TimeoutExpired:
        return False, f"still running after {timeout:g} s: it never exited (stopped, with its children)"
    took = time.monotonic() - start
    said = " ".join(result.stdout.split()) or "nothing"
    return True, f"exited with code {result.returncode} within {took:.1f} s; it printed: {said}"


# ------------------------------------------------------------ programs that do not exit

NEVER_EXITS = {
    "a non-daemon child left running": '''\
from multiprocessing import Process
from helpers.processes import sleep_forever

if __name__ == "__main__":
    worker = Process(target=sleep_forever, args=(300,))
    worker.start()
    print("all done")  # at exit, Python joins every non-daemon child: for 300 s
''',
    "a queue's unread data": '''\
from multiprocessing import Process, Queue
from helpers.messages import put_big_result

if __name__ == "__main__":
    queue = Queue()
    worker = Process(target=put_big_result, args=(queue, 1_000_000))
    worker.start()
    print("all done")
    worker.join()  # nobody reads: the child waits to flush its queue, the parent waits for the child
''',
    "an executor's work never stopped": '''\
from concurrent.futures import ProcessPoolExecutor
from helpers.pools import sleep_for

if __name__ == "__main__":
    executor = ProcessPoolExecutor(max_workers=1)
    executor.submit(sleep_for, 300)
    print("all done")  # at exit, concurrent.futures waits for every task it was given
''',
}

EXITS = {
    "a non-daemon child left running": '''\
from multiprocessing import Process
from helpers.processes import sleep_forever

if __name__ == "__main__":
    worker = Process(target=sleep_forever, args=(300,))
    worker.start()
    print("all done")
    worker.terminate()          # or daemon=True, or a stop Event and join(timeout)
    worker.join(timeout=5)
''',
    "a queue's unread data": '''\
from multiprocessing import Process, Queue
from helpers.messages import put_big_result

if __name__ == "__main__":
    queue = Queue()
    worker = Process(target=put_big_result, args=(queue, 1_000_000))
    worker.start()
    data = queue.get(timeout=30)   # read what was sent, then join
    worker.join(timeout=30)
    print("all done")
''',
    "an executor's work never stopped": '''\
from concurrent.futures import ProcessPoolExecutor
from helpers.pools import sleep_for

if __name__ == "__main__":
    executor = ProcessPoolExecutor(max_workers=1)
    executor.submit(sleep_for, 300)
    print("all done")
    if hasattr(executor, "terminate_workers"):      # Python 3.14+
        executor.terminate_workers()
    else:                                             # before: stop the workers yourself
        for worker in list(executor._processes.values()):
            worker.terminate()
        executor.shutdown(wait=False, cancel_futures=True)
''',
}

ORPHAN = '''\
import multiprocessing, os, time
from helpers.debugging import sleep_until_parent_dies, work_until_parent_dies

if __name__ == "__main__":
    watcher = multiprocessing.Process(target=work_until_parent_dies, args=(0.05, 30))  # parent_process()
    # PR_SET_PDEATHSIG (Linux) watches the process that forked the child: under
    # forkserver that is the fork server, so this child is started with spawn
    doomed = multiprocessing.get_context("spawn").Process(target=sleep_until_parent_dies, args=(30,))
    watcher.start()
    doomed.start()
    print(watcher.pid, doomed.pid, flush=True)
    time.sleep(0.5)  # the children are at work
    os._exit(1)      # the parent dies without joining or cleaning up: a crash
'''


def orphan_stops(timeout: float = 10.0) -> tuple[bool, float]:
    """Run :data:`ORPHAN`; return whether both its children stopped within ``timeout`` s of the parent's death, and when the last did."""
    check_seconds("timeout", timeout, 0.1, 600)
    with script_session(ORPHAN, timeout=30, grace=5) as session:
        pids = [int(word) for word in session.result.stdout.split()[:2]]
        died = time.monotonic()
        while any(session.still_running(pid) for pid in pids):
            if time.monotonic() - died > timeout:
                return False, timeout
            time.sleep(0.01)
        return True, time.monotonic() - died


def run_pytest(test_source: str, *args: str, timeout: float = 60.0) -> tuple[int, str]:
    """Run pytest on ``test_source`` (the text of a test file) in a fresh interpreter; return (exit code, summary).

    The summary is pytest's last line (``"3 passed in 1.2s"``), or the message of
    why pytest could not run.
    """
    import tempfile

    check_seconds("timeout", timeout, 0.1, 600)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "test_workers.py"
        path.write_text(test_source, encoding="utf-8")
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, str(path)],
                              capture_output=True, text=True, timeout=timeout, env=script_env(), cwd=folder)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    return done.returncode, re.sub(r" in [\d.]+s", "", (lines or ["pytest printed nothing"])[-1].strip("= "))
