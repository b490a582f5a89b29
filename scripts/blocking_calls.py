"""Find the calls in the book's code that can wait forever: the rules of tests/test_no_hang.py.

The house style says every blocking call has a timeout, so that a mistake fails in
seconds instead of hanging a classroom's Run All or CI. This module reads Python
source (a helper module, or the code cells of a chapter, ``%%writefile`` cells
included) with :mod:`ast` and reports each call below that has no timeout.

A timeout is "given" when the argument is there and is not the literal ``None``
(``join(None)`` and ``get(timeout=None)`` wait forever).

- ``x.join()``: Process, Thread, Pool and JoinableQueue joins. A ``join`` with any
  argument passes: ``str.join`` and ``os.path.join`` always take one, and for a
  process or thread the first argument is the timeout. ``Pool.join`` and
  ``JoinableQueue.join`` have no timeout at all (``helpers.lab.ipc.join_with_timeout``
  wraps the latter): each use needs an allow-list reason.
- ``x.get()``: Queue.get(block, timeout), AsyncResult.get(timeout). Passes with a
  timeout, with ``block=False`` / ``get(False)``, or with one positional argument that
  is not the literal ``True``/``None`` (``dict.get(key)``, ``AsyncResult.get(10)``).
  ``get_nowait()`` never blocks.
- ``x.wait()``: Event, Condition, Barrier, Popen: the timeout is the first argument.
  A ``wait()`` on a name that the same file (or notebook) binds to a ``Barrier`` made
  with a timeout passes. ``wait(fs)`` / ``futures.wait(fs)`` / ``connection.wait(objs)``
  and ``as_completed(fs)`` take the timeout second; ``x.wait_for(pred)`` too.
- ``x.acquire()``: passes with a timeout or non-blocking (``acquire(False)``,
  ``block=False``, ``blocking=False``).
- ``with lock:`` passes: the block releases the lock on every way out, so it can only
  wait forever on a holder that never leaves its own block, and every call that could
  keep a holder inside is held to these same rules. What the rules cannot see is a
  second lock taken inside the block (two processes taking two locks in opposite
  orders wait for each other forever), so a lock's ``with`` nested inside another
  lock's ``with`` is reported. ("Lock" is read from the name: lock, semaphore,
  condition, mutex.) A holder killed inside its block (``terminate()``) never releases
  a multiprocessing lock; no static rule sees that.
- ``x.recv()``, ``x.recv_bytes()``, ``x.recv_bytes_into()``: a Connection has no
  receive timeout. Passes when the same function (or cell) first tests ``x.poll(...)``
  (same receiver, a timeout or none, not ``None``) in an ``if``, ``while`` or
  ``assert``: a ``poll`` whose answer is thrown away guards nothing.
- ``f.result()``, ``f.exception()``, ``it.next()`` (Future; the iterator of
  ``Pool.imap``): the timeout is the first argument.
- ``pool.map``, ``pool.starmap``, ``pool.apply``: Pool's have no timeout; pass only
  with ``timeout=`` (``Executor.map``). Use ``map_async(...).get(timeout)`` instead.
- ``pool.imap(...)``, ``pool.imap_unordered(...)`` return at once, but iterating the
  result waits without limit: reported when the result (directly or through the name
  it is assigned to, in the same scope) is looped over, or passed to a call that has
  no ``timeout=`` keyword (``list``, ``tqdm``, ``next``). Consume it with
  ``it.next(timeout)``.
- ``subprocess.run/call/check_call/check_output`` without ``timeout=``, and
  ``p.communicate()`` without a timeout.

Not seen: ``put`` on a full bounded queue (the book's bounded queues, in chapter 05, are
given ``put(timeout=)``); ``send`` on a pipe
whose buffer is full, which waits for the reader (no API gives it a timeout); and the
exit of a ``with ProcessPoolExecutor`` block, which waits for the tasks still running
(``shutdown(wait=True)``), timeouts or not: the tasks the book gives an executor are
its own short helpers (``square``, ``invert``, ``sleep_for`` ...), which end by themselves.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

import notebook_rules

MAX_CALL_TEXT = 60


@dataclass(frozen=True)
class Finding:
    path: str  # relative to the root, with "/": helpers/lab/ipc.py, chapters/03-x.ipynb
    scope: str  # dotted function name or "<module>"; in a notebook, the cell id first
    call: str  # short source of the call: "pool.join()", "pool.imap(...)"
    line: int  # in the file, or in the cell
    why: str
    where: str = ""  # in a notebook: "code cell 28 (id acad18c2)", counting code cells from 0

    @property
    def key(self) -> str:
        """The allow-list key: ``path:scope: call``."""
        return f"{self.path}:{self.scope}: {self.call}"

    def __str__(self) -> str:
        where = f", {self.where}" if self.where else ""
        return f"{self.path}{where}, line {self.line}, in {self.scope}: {self.call}: {self.why}"


def _given(node: ast.expr | None) -> bool:
    return node is not None and not (isinstance(node, ast.Constant) and node.value is None)


def _literal(node: ast.expr | None, *values) -> bool:
    """True when ``node`` is one of the constants ``values`` (``False`` is not ``0`` here)."""
    if not isinstance(node, ast.Constant):
        return False
    return any(node.value is v or (node.value == v and type(node.value) is type(v)) for v in values)


def _keyword(call: ast.Call, *names: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg in names), None)


def _has_timeout(call: ast.Call, position: int | None) -> bool:
    """True when the call is given a timeout, by keyword or at ``position`` (0-based)."""
    if _given(_keyword(call, "timeout")):
        return True
    return position is not None and len(call.args) > position and _given(call.args[position])


def _short(call: ast.Call) -> str:
    text = f"{ast.unparse(call.func)}({'...' if call.args or call.keywords else ''})"
    return text if len(text) <= MAX_CALL_TEXT else text[: MAX_CALL_TEXT - 3] + "..."


def _last_name(node: ast.expr) -> str:
    while isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _lock_like(node: ast.expr) -> bool:
    name = _last_name(node).lower()
    if name in {"cond", "sem"}:
        return True
    return bool(re.search(r"lock|semaphore|condition|mutex", name)) and not re.search(r"block|clock", name)


MODULE_WAITS = {"futures", "connection"}  # futures.wait(fs, timeout), connection.wait(objs, timeout)
RECEIVES = {"recv", "recv_bytes", "recv_bytes_into"}
SUBPROCESS_RUNS = {"run", "call", "check_call", "check_output"}
IMAPS = {"imap", "imap_unordered"}


def _call_problem(call: ast.Call, barriers: set[str]) -> str | None:
    """Why this call can wait forever, or None. (recv and imap need their scope: see _scope_findings.)"""
    func = call.func
    if isinstance(func, ast.Name):
        if func.id in {"wait", "as_completed"} and not _has_timeout(call, 1):
            return f"{func.id}() without a timeout waits until every future is done"
        return None
    if not isinstance(func, ast.Attribute):
        return None
    name, owner = func.attr, ast.unparse(func.value)
    if name == "join" and not _has_timeout(call, 0):
        return "join() without a timeout waits forever for a stuck child (or task)"
    if name == "get":
        if _literal(_keyword(call, "block"), False) or (call.args and _literal(call.args[0], False, 0)):
            return None  # Queue.get(False): never waits
        if call.args and _literal(call.args[0], True):  # Queue.get(True, timeout)
            return None if _has_timeout(call, 1) else "get(True) without a timeout waits forever if no item comes"
        if call.args and not _literal(call.args[0], None):
            return None  # dict.get(key), AsyncResult.get(timeout)
        if not _has_timeout(call, 0):
            return "get() without a timeout waits forever if no item (or result) comes"
        return None
    if name == "wait":
        if _last_name(func.value) in MODULE_WAITS:
            return None if _has_timeout(call, 1) else f"{name}() without a timeout waits until all are ready"
        if not _has_timeout(call, 0) and owner not in barriers:
            return "wait() without a timeout waits forever if the signal never comes"
        return None
    if name in {"wait_for", "as_completed"} and not _has_timeout(call, 1):
        return f"{name}() without a timeout waits forever"
    if name == "acquire":
        nonblocking = _literal(_keyword(call, "block", "blocking"), False, 0) or (call.args and _literal(call.args[0], False, 0))
        if not nonblocking and not _has_timeout(call, 1):
            return "acquire() without a timeout waits forever for a lock that is never released"
        return None
    if name in {"result", "exception", "next"} and not _has_timeout(call, 0):
        return f"{name}() without a timeout waits forever for a task that never ends"
    if name in {"map", "starmap", "apply"} and not _given(_keyword(call, "timeout")):
        return f"Pool.{name} has no timeout: use {name}_async(...).get(timeout) (or Executor.map(..., timeout=))"
    if name in SUBPROCESS_RUNS and owner == "subprocess" and not _given(_keyword(call, "timeout")):
        return f"subprocess.{name} without timeout= waits forever for a script that never ends"
    if name == "communicate" and not _has_timeout(call, 1):
        return "communicate() without a timeout waits forever for a process that never ends"
    return None


def _walk_scope(node: ast.AST, name: str):
    """Yield (dotted scope name, nodes of that scope); nested functions are scopes of their own."""
    own: list[ast.AST] = []
    stack = [(child, name) for child in ast.iter_child_nodes(node)]
    while stack:
        child, prefix = stack.pop()
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inner = child.name if prefix in {"<module>", ""} else f"{prefix}.{child.name}"
            yield from _walk_scope(child, inner)
            continue
        own.append(child)
        if isinstance(child, ast.ClassDef):
            cls = child.name if prefix in {"<module>", ""} else f"{prefix}.{child.name}"
            stack.extend((c, cls) for c in ast.iter_child_nodes(child))
        else:
            stack.extend((c, prefix) for c in ast.iter_child_nodes(child))
    yield name, own


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}


def _poll_guards(nodes) -> list[tuple[str, int]]:
    """(receiver, line) of each ``x.poll(...)`` tested by an if, while or assert."""
    guards = []
    for node in nodes:
        if isinstance(node, (ast.If, ast.While, ast.Assert, ast.IfExp)):
            for sub in ast.walk(node.test):
                if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr == "poll":
                    timeout = sub.args[0] if sub.args else _keyword(sub, "timeout")
                    if timeout is None or _given(timeout):  # poll() does not wait; poll(None) waits forever
                        guards.append((ast.unparse(sub.func.value), sub.lineno))
    return guards


def _loops_over(nodes, target) -> list[int]:
    """The lines of the loops, comprehensions and calls (without timeout=) in ``nodes`` that consume ``target``.

    ``target`` is an imap call node, or the name an imap result was assigned to."""
    def hit(expr) -> bool:
        if isinstance(expr, ast.Starred):
            expr = expr.value
        return expr is target if isinstance(target, ast.AST) else isinstance(expr, ast.Name) and expr.id == target

    lines = []
    for node in nodes:
        if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)) and hit(node.iter):
            lines.append(node.iter.lineno)
        elif isinstance(node, ast.Call) and any(hit(a) for a in node.args) and not _given(_keyword(node, "timeout")):
            lines.append(node.lineno)
    return lines


def _scope_findings(scope: str, nodes, parents, barriers: set[str]):
    """Yield (call node, short text, why) for the blocking calls of one scope."""
    guards = _poll_guards(nodes)
    for node in nodes:
        if isinstance(node, (ast.With, ast.AsyncWith)) and any(_lock_like(i.context_expr) for i in node.items):
            outer = next(ast.unparse(i.context_expr) for i in node.items if _lock_like(i.context_expr))
            for inner in (n for stmt in node.body for n in _walk_scope_nodes(stmt)):
                if isinstance(inner, (ast.With, ast.AsyncWith)):
                    for item in (i for i in inner.items if _lock_like(i.context_expr)):
                        yield inner, f"with {outer}: with {ast.unparse(item.context_expr)}", (
                            "a second lock taken while holding one: two processes taking them in opposite orders wait forever")
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in RECEIVES:
            owner = ast.unparse(func.value)
            if not any(r == owner and line <= node.lineno for r, line in guards):
                yield node, _short(node), f"{func.attr}() has no timeout: test {owner}.poll(timeout) in an if/while/assert first"
            continue
        if isinstance(func, ast.Attribute) and func.attr in IMAPS:
            parent = parents.get(node)
            uses = _loops_over(nodes, node)
            if isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name):
                uses += _loops_over(nodes, parent.targets[0].id)
            if uses:
                yield node, _short(node), f"its results are consumed without a timeout (line {min(uses)}): take them with it.next(timeout)"
            continue
        why = _call_problem(node, barriers)
        if why:
            yield node, _short(node), why


FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def _walk_scope_nodes(node):
    """ast.walk that does not enter nested functions."""
    stack = [node]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(c for c in ast.iter_child_nodes(node) if not isinstance(c, FUNCTIONS))


def barriers_with_timeout(trees) -> set[str]:
    """The names (``start``, ``self.barrier``) bound only to ``Barrier(parties, action, timeout)`` with a timeout."""
    timed, other = set(), set()  # a name also bound to something else elsewhere does not count
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                value = node.value
                is_timed = isinstance(value, ast.Call) and _last_name(value.func) == "Barrier" and _has_timeout(value, 2)
                (timed if is_timed else other).update(ast.unparse(t) for t in node.targets)
    return timed - other


def find_in_trees(path: str, trees: list[tuple[str, str, int, ast.AST]]) -> list[Finding]:
    """Findings of one file: ``trees`` holds (scope prefix, where, line offset, tree) for each part."""
    barriers = barriers_with_timeout(t for *_, t in trees)
    found = []
    for prefix, where, offset, tree in trees:  # in file (cell) order
        parents, here = _parents(tree), []
        for scope, nodes in _walk_scope(tree, prefix or "<module>"):
            for node, text, why in _scope_findings(scope, nodes, parents, barriers):
                here.append(Finding(path, scope, text, node.lineno + offset, why, where))
        found += sorted(here, key=lambda f: (f.line, f.call))
    return found


def find_in_source(source: str, path: str = "<snippet>") -> list[Finding]:
    """The blocking calls without a timeout in Python ``source``."""
    return find_in_trees(path, [("", "", 0, ast.parse(source))])


LINE_MAGIC = re.compile(r"^([ \t]*)%(?:time|timeit|prun)\s+((?:-\w+(?:\s+\d+)?\s+)*)(.*)$", re.M)
"""``%timeit -n 1 stmt``: the statement runs, so it is checked (the options are dropped)."""


def cell_python(source: str) -> tuple[str, int]:
    """Return (the Python of a code cell, how many lines precede it in the cell).

    A ``%%writefile name.py`` cell's body is the module a child imports: it is checked
    as written. Other cells are turned into Python as the notebook rules do (magics
    become calls; ``%time`` statements and ``%%time`` bodies are kept; ``%%bash`` and
    the like give nothing)."""
    stripped = source.lstrip()
    skipped = len(source) - len(stripped)
    lines_before = source[:skipped].count("\n")
    if stripped.startswith("%%"):
        first, _, body = stripped.partition("\n")
        words = first[2:].split() or [""]
        if words[0] == "writefile" and words[-1].endswith(".py"):
            return body, lines_before + 1
        if words[0] in notebook_rules.PYTHON_CELL_MAGICS:
            python, offset = cell_python(body)
            return python, lines_before + 1 + offset
    return notebook_rules._python_source(LINE_MAGIC.sub(r"\1\3", source)), 0


def find_in_notebook(path: Path, root: Path) -> list[Finding]:
    """The blocking calls without a timeout in a notebook's code cells (scope: the cell id)."""
    nb = nbformat.read(path, as_version=4)
    trees = []
    code = [c for c in nb.cells if c.cell_type == "code"]
    for index, cell in enumerate(code):
        python, offset = cell_python(cell.source)
        where = f"code cell {index} (id {cell.get('id')})"
        try:
            tree = ast.parse(python)
        except SyntaxError as error:
            raise SyntaxError(f"{path.name}, {where}: cannot check a cell that does not parse: {error}") from error
        trees.append((str(cell.get("id") or index), where, offset, tree))
    return find_in_trees(path.relative_to(root).as_posix(), trees)


def find_in_module(path: Path, root: Path) -> list[Finding]:
    return find_in_source(path.read_text(encoding="utf-8"), path.relative_to(root).as_posix())


def book_sources(root: Path) -> list[Path]:
    """What a learner's Run All executes: the chapters and every helpers module."""
    return sorted((root / "chapters").glob("*.ipynb")) + sorted((root / "helpers").rglob("*.py"))


def find_in_book(root: Path) -> list[Finding]:
    found = []
    for path in book_sources(root):
        found += find_in_notebook(path, root) if path.suffix == ".ipynb" else find_in_module(path, root)
    return found
