"""No hangs by construction: every blocking call in the chapters and in helpers/ has a timeout.

The rules (what counts as blocking, and what counts as a timeout) are in
scripts/blocking_calls.py. A call that has none and cannot wait forever is listed in
ALLOWED with the reason; an entry whose call is gone fails, so the list stays true.
"""

from __future__ import annotations

import textwrap

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

import blocking_calls
from notebook_rules import ROOT

ALLOWED = {
    # key: "path:scope: call" (Finding.key); the scope of a notebook cell is its cell id
    "helpers/lab/sync_checks.py:check_lock_transfer: lock.acquire()": (
        "the lock was made a few lines above and no other process or thread has it yet: acquire() returns at once"
    ),
    "chapters/06-tune-and-harden-a-pool.ipynb:3f7e56a3: pool.join()": (
        "Pool.join has no timeout; it runs after close() and after get(timeout=10) returned every result, "
        "so the workers are idle and leave at once"
    ),
    "chapters/06-tune-and-harden-a-pool.ipynb:114bb83f: stray.join()": (
        "Pool.join has no timeout; it runs after terminate(), which has already stopped and joined the workers"
    ),
    "chapters/11-scale-out-with-dask.ipynb:dask-client-map: client.map(...)": (
        "Dask's Client.map only submits the tasks and returns futures at once; the next line waits for them "
        "with wait(futures, timeout=60)"
    ),
}


@pytest.fixture(scope="module")
def findings():
    return blocking_calls.find_in_book(ROOT)


def test_every_blocking_call_in_the_book_has_a_timeout(findings):
    unexplained = [f for f in findings if f.key not in ALLOWED]
    assert not unexplained, (
        "blocking calls without a timeout (give them one; or, if one truly cannot wait forever, "
        "add its key to ALLOWED with the reason):\n"
        + "\n".join(f"  {f}\n    key: {f.key!r}" for f in unexplained)
    )


def test_every_allow_list_entry_is_still_needed(findings):
    stale = sorted(set(ALLOWED) - {f.key for f in findings})
    assert not stale, f"ALLOWED lists calls that are gone or now have a timeout; remove them: {stale}"


def test_the_allow_list_is_short_and_says_why():
    assert len(ALLOWED) <= 15, "the allow-list is for exceptions: give the calls a timeout instead"
    for key, reason in ALLOWED.items():
        assert key.count(": ") == 1 and (key.startswith("helpers/") or key.startswith("chapters/")), key
        assert len(reason.split()) >= 8, f"{key}: say why this call cannot wait forever"


def test_the_scan_reads_every_chapter_and_every_helpers_module():
    sources = {p.relative_to(ROOT).as_posix() for p in blocking_calls.book_sources(ROOT)}
    chapters = {p.relative_to(ROOT).as_posix() for p in (ROOT / "chapters").glob("*.ipynb")}
    assert chapters and chapters <= sources
    assert {"helpers/sync.py", "helpers/lab/ipc.py", "helpers/lab/pools.py"} <= sources


# --- the checker finds what it claims to find, and only that ----------------------------

FLAGGED = [  # (source, the call it must report)
    ("p.join()", "p.join()"),
    ("p.join(None)", "p.join(...)"),
    ("p.join(timeout=None)", "p.join(...)"),
    ("pool.join()", "pool.join()"),
    ("q.get()", "q.get()"),
    ("q.get(True)", "q.get(...)"),
    ("q.get(block=True)", "q.get(...)"),
    ("async_result.get(None)", "async_result.get(...)"),
    ("event.wait()", "event.wait()"),
    ("event.wait(timeout=None)", "event.wait(...)"),
    ("b = Barrier(2)\nb.wait()", "b.wait()"),
    ("b = Barrier(2, timeout=5)\nb = Event()\nb.wait()", "b.wait()"),
    ("cond.wait_for(lambda: done)", "cond.wait_for(...)"),
    ("lock.acquire()", "lock.acquire()"),
    ("lock.acquire(True)", "lock.acquire(...)"),
    ("future.result()", "future.result()"),
    ("future.exception()", "future.exception()"),
    ("it.next()", "it.next()"),
    ("wait(futures)", "wait(...)"),
    ("concurrent.futures.wait(fs)", "concurrent.futures.wait(...)"),
    ("as_completed(fs)", "as_completed(...)"),
    ("multiprocessing.connection.wait([a, b])", "multiprocessing.connection.wait(...)"),
    ("pool.map(f, xs)", "pool.map(...)"),
    ("pool.starmap(pow, pairs)", "pool.starmap(...)"),
    ("pool.apply(f, (1,))", "pool.apply(...)"),
    ("executor.map(f, xs)", "executor.map(...)"),
    ("for r in pool.imap(f, xs):\n    print(r)", "pool.imap(...)"),
    ("rs = pool.imap_unordered(f, xs)\nout = [r for r in rs]", "pool.imap_unordered(...)"),
    ("rs = pool.imap(f, xs)\nout = list(rs)", "pool.imap(...)"),
    ("out = list(tqdm(pool.imap(f, xs)))", "pool.imap(...)"),
    ("conn.recv()", "conn.recv()"),
    ("conn.poll(10)\nconn.recv()", "conn.recv()"),  # the answer of poll is thrown away
    ("if other.poll(10):\n    conn.recv_bytes()", "conn.recv_bytes()"),  # a different connection
    ("if conn.poll(None):\n    conn.recv()", "conn.recv()"),
    ("def f(conn):\n    if conn.poll(1):\n        pass\ndef g(conn):\n    return conn.recv()", "conn.recv()"),
    ("subprocess.run(['ls'])", "subprocess.run(...)"),
    ("proc.communicate()", "proc.communicate()"),
    ("with lock_a:\n    with lock_b:\n        pass", "with lock_a: with lock_b"),
    ("with counter.get_lock():\n    with self.lock:\n        pass", "with counter.get_lock(): with self.lock"),
]

PASSING = [
    "p.join(timeout=5)", "p.join(5)", "', '.join(names)", "os.path.join('a', 'b')",
    "q.get(timeout=5)", "q.get(True, 5)", "q.get(False)", "q.get(block=False)", "q.get_nowait()",
    "d.get('key')", "d.get(key, None)", "async_result.get(10)", "pool.map_async(f, xs).get(timeout=10)",
    "event.wait(5)", "barrier.wait(timeout=1)", "b = Barrier(2, timeout=5)\nb.wait()", "b = Barrier(2, None, 5)\nb.wait()",
    "cond.wait_for(lambda: done, 5)", "lock.acquire(timeout=1)", "lock.acquire(True, 1)", "lock.acquire(False)",
    "lock.acquire(blocking=False)", "lock.acquire(block=False)", "future.result(timeout=0)", "future.exception(1)",
    "it.next(timeout=10)", "wait(fs, timeout=5)", "as_completed(fs, 10)", "multiprocessing.connection.wait([a], 5)",
    "executor.map(f, xs, timeout=10)", "list(executor.map(f, xs, timeout=10))", "rs = pool.imap(f, xs)\nrs.next(10)",
    "rs = pool.imap(f, xs)\nrecord_arrivals(rs, 5, timeout=10)",
    "if not conn.poll(10):\n    raise TimeoutError\nconn.recv()", "while conn.poll(1):\n    got.append(conn.recv())",
    "assert conn.poll(timeout=10)\nconn.recv_bytes()", "if conn.poll():\n    conn.recv()",
    "def f(conn):\n    if conn.poll(5):\n        return conn.recv()",
    "subprocess.run(['ls'], timeout=60)", "proc.communicate(timeout=5)",
    "with lock:\n    counter.value += 1", "with pool_lock:\n    with open('f') as f:\n        pass",
    "with clock_block:\n    with lock:\n        pass", "map(f, xs)", "logger.exception('failed')",
]


@pytest.mark.parametrize("source, call", FLAGGED, ids=[s for s, _ in FLAGGED])
def test_a_call_without_a_timeout_is_found(source, call):
    found = blocking_calls.find_in_source(source)
    assert [f.call for f in found] == [call], found


@pytest.mark.parametrize("source", PASSING)
def test_a_call_with_a_timeout_or_that_cannot_block_passes(source):
    assert blocking_calls.find_in_source(source) == []


def test_a_finding_names_the_function_and_line():
    source = textwrap.dedent("""\
        class Server:
            def stop(self):
                def later():
                    self.process.join()
                return later
        """)
    (found,) = blocking_calls.find_in_source(source, "helpers/x.py")
    assert (found.scope, found.line) == ("Server.stop.later", 4)
    assert found.key == "helpers/x.py:Server.stop.later: self.process.join()"


def write_notebook(root, *sources):
    path = root / "chapters" / "scratch.ipynb"
    path.parent.mkdir()
    cells = [new_code_cell(s, id=f"cell{i}") for i, s in enumerate(sources)]
    nbformat.write(new_notebook(cells=cells), path)
    return path


def test_notebook_cells_are_read_with_their_magics(tmp_path):
    path = write_notebook(
        tmp_path,
        '%pip install --quiet tqdm\nanswer = results.get()',
        "%%writefile my_worker.py\nimport queue\n\n\ndef worker(q):\n    return q.get()",
        "%%bash\necho q.get()",  # not Python
        "import time\n%timeit -n 1 -r 1 child.join()",
        "%%time\nchild.join()",
        "ready = Barrier(2, timeout=5)",
        "ready.wait()",  # bound in another cell of the same notebook
    )
    found = blocking_calls.find_in_notebook(path, tmp_path)
    assert [(f.where, f.scope, f.line, f.call) for f in found] == [
        ("code cell 0 (id cell0)", "cell0", 2, "results.get()"),
        ("code cell 1 (id cell1)", "cell1.worker", 6, "q.get()"),
        ("code cell 3 (id cell3)", "cell3", 2, "child.join()"),
        ("code cell 4 (id cell4)", "cell4", 2, "child.join()"),
    ]
    assert found[1].key == "chapters/scratch.ipynb:cell1.worker: q.get()"


def test_a_cell_that_does_not_parse_is_an_error_not_a_pass(tmp_path):
    path = write_notebook(tmp_path, "def broken(:\n    q.get()")
    with pytest.raises(SyntaxError, match="code cell 0"):
        blocking_calls.find_in_notebook(path, tmp_path)
