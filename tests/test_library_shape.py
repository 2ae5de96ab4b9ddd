"""The library stays readable: every function fits on a screen.

A function in bplearn/ may have at most 40 lines of body (its docstring not counted) and
10 branches (if/elif, for, while, except, conditional expressions). The exception is a
recurrent layer's forward or backward, whose loop over time is what the lesson shows:
it may reach 60 lines so that the whole loop reads in one place.
"""
import ast
from pathlib import Path

import pytest

import bplearn

PACKAGE = Path(bplearn.__file__).resolve().parent
MAX_LINES, MAX_BRANCHES = 40, 10
LOOP_LESSONS = {("nn/rnn.py", "forward"), ("nn/rnn.py", "backward"),
                ("nn/lstm.py", "forward"), ("nn/lstm.py", "backward")}
LOOP_LESSON_MAX_LINES = 60
BRANCHES = (ast.If, ast.For, ast.While, ast.ExceptHandler, ast.IfExp, ast.match_case)


def body_lines(func: ast.FunctionDef) -> int:
    """Lines from the first statement after the docstring to the end of the function."""
    body = func.body
    if len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return func.end_lineno - body[0].lineno + 1


def branches(func: ast.FunctionDef) -> int:
    """Decision points in the function itself (nested functions are counted on their own)."""
    count, stack = 0, list(func.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        count += isinstance(node, BRANCHES)
        stack.extend(ast.iter_child_nodes(node))
    return count


def functions():
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield path.relative_to(PACKAGE).as_posix(), node


def test_every_function_fits_on_a_screen():
    too_big = []
    for where, func in functions():
        limit = LOOP_LESSON_MAX_LINES if (where, func.name) in LOOP_LESSONS else MAX_LINES
        lines, n_branches = body_lines(func), branches(func)
        if lines > limit or n_branches > MAX_BRANCHES:
            too_big.append(f"{where}:{func.lineno} {func.name}: {lines} lines (limit {limit}), "
                           f"{n_branches} branches (limit {MAX_BRANCHES})")
    assert not too_big, "split these into smaller named steps:\n" + "\n".join(too_big)


@pytest.mark.parametrize("source, lines, n_branches", [
    ("def f():\n    '''doc'''\n    x = 1\n    return x\n", 2, 0),
    ("def f(a):\n    if a:\n        return 1\n    elif a > 1:\n        return 2\n"
     "    for i in a:\n        pass\n    return 3 if a else 4\n", 7, 4),
    ("def f():\n    def g(a):\n        if a:\n            return 1\n    return g\n", 4, 0),
])
def test_the_counts_are_what_a_reader_sees(source, lines, n_branches):
    func = ast.parse(source).body[0]
    assert (body_lines(func), branches(func)) == (lines, n_branches)
