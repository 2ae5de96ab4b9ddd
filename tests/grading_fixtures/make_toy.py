"""Writes ex00_toy.ipynb, the toy exercise the grading tests use (run it after editing).

    python tests/grading_fixtures/make_toy.py
"""
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent


def cell(kind, grade_id, text, *, solution=False, points=None):
    meta = {"grade": points is not None, "grade_id": grade_id, "locked": not solution,
            "schema_version": 3, "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    make = new_markdown_cell if kind == "md" else new_code_cell
    c = make(text, metadata={"nbgrader": meta})
    c.id = grade_id
    return c


CELLS = [
    cell("md", "ex00-intro", "# Exercise 0 · A toy for the judge\n\nBuilds on lesson 01. Four small tasks."),
    cell("code", "ex00-setup", "import numpy as np\nfrom bplearn.feedback.exercise import check, summary"),
    cell("code", "ex00-solution",
         'def affine_backward(dout, x, w):\n'
         '    """y = x * w (w broadcast over the batch). dout, x: (N, D), w: (D,) -> dx (N, D), dw (D,)"""\n'
         '    ### BEGIN SOLUTION\n'
         '    dx = dout * w\n'
         '    dw = (dout * x).sum(axis=0)\n'
         '    ### END SOLUTION\n'
         '    return dx, dw\n', solution=True),
    cell("code", "ex00-dx", '# Check: dx (1 point)\ncheck("ex00-dx")', points=1),
    cell("code", "ex00-dw", '# Check: dw (2 points)\ncheck("ex00-dw")', points=2),
    cell("code", "ex00-dw-hidden",
         "# Hidden part: dw on the grader's own inputs (1 point); only the instructor's judge grades it.\n"
         "### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS", points=1),
    cell("md", "ex00-slope-task", "What is the derivative of $3x^2$ at $x = 2$? Put the number in `slope`."),
    cell("code", "ex00-slope-answer", "slope = None\n### BEGIN SOLUTION\nslope = 12.0\n### END SOLUTION",
         solution=True),
    cell("code", "ex00-slope", '# Check: slope (1 point)\ncheck("ex00-slope")', points=1),
    cell("code", "ex00-fd-solution",
         'def numerical_derivative(f, x, h=1e-5):\n'
         '    """Central difference of f at every entry of x (elementwise f). x: (N,) -> (N,)"""\n'
         '    ### BEGIN SOLUTION\n'
         '    return (f(x + h) - f(x - h)) / (2 * h)\n'
         '    ### END SOLUTION\n', solution=True),
    cell("code", "ex00-fd", '# Check: your checker on the grader\'s function (1 point)\ncheck("ex00-fd")', points=1),
    cell("code", "ex00-predict-solution",
         'def predict(X):\n'
         '    """X: (N, 2) -> labels (N,): 1 above the line x0 + x1 = 0, else 0"""\n'
         '    ### BEGIN SOLUTION\n'
         '    return (X[:, 0] + X[:, 1] > 0).astype(int)\n'
         '    ### END SOLUTION\n', solution=True),
    cell("code", "ex00-predict", '# Check: accuracy on held-out points (1 point)\ncheck("ex00-predict")', points=1),
    cell("code", "ex00-summary", "summary()"),
]

if __name__ == "__main__":
    nb = new_notebook(cells=CELLS, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                            "language": "python"}})
    nbformat.write(nb, HERE / "ex00_toy.ipynb")
