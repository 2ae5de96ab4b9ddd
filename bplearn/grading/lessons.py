"""solutions/lessons/ -> course/: the learner version of every lesson, from one source.

The solution version of a lesson is the source of truth. In its code cells, each answer
sits between two marker lines::

    def neuron_backward(x, w, b, target):
        \"\"\"...\"\"\"
        ### BEGIN SOLUTION
        ...the answer...
        ### END SOLUTION

The learner version replaces each block by its stub: the block's lines that read
``### STUB: code`` (as ``code``, at the marker's indentation), or ``...`` when there
are none. Everything else (markdown, other code, cell ids, tags) is copied unchanged.
Both versions are then executed top to bottom in a fresh kernel, so nbval can compare
their outputs.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

BEGIN, END, STUB = "### BEGIN SOLUTION", "### END SOLUTION", "### STUB:"


def learner_source(source: str) -> str:
    """The learner's version of one cell's source: every solution block becomes its stub."""
    out, block = [], None
    for line in source.split("\n"):
        stripped = line.strip()
        if stripped == BEGIN:
            indent = line[: len(line) - len(line.lstrip())]
            block = []
        elif stripped == END:
            if block is None:
                raise ValueError(f"{END} without {BEGIN} in:\n{source}")
            out.extend(block or [indent + "..."])
            block = None
        elif block is not None:
            if stripped.startswith(STUB):
                block.append(indent + stripped[len(STUB):].strip())
        else:
            out.append(line)
    if block is not None:
        raise ValueError(f"{BEGIN} without {END} in:\n{source}")
    return "\n".join(out)


def learner_notebook(solution: dict) -> dict:
    """A copy of the solution notebook (nbformat JSON) with every answer replaced by its stub.

    Outputs and execution counts are cleared: the learner version is executed afresh.
    """
    notebook = json.loads(json.dumps(solution))
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        if BEGIN in source:
            cell["source"] = learner_source(source).splitlines(keepends=True)
        cell["outputs"], cell["execution_count"] = [], None
    return notebook


def solution_lessons(source: Path) -> list[Path]:
    """The solution lessons: NN_name.ipynb in ``source``, in course order."""
    return sorted(p for p in Path(source).glob("*.ipynb") if re.match(r"\d\d_", p.name))


def generate_lessons(source: Path, out: Path, execute: bool = True, only=()) -> list[Path]:
    """Write the learner version of every lesson in ``source`` to ``out``; return the paths.

    execute=True runs the solution and the learner versions in fresh kernels and saves
    their outputs (a lesson runs in under 30 s). only: lesson numbers ("04") to do; all if empty.
    """
    written = []
    for path in solution_lessons(source):
        if only and path.name[:2] not in only:
            continue
        if execute:
            _execute(path)
        target = Path(out) / path.name
        target.write_text(json.dumps(learner_notebook(json.loads(path.read_text())), indent=1,
                                     ensure_ascii=False) + "\n", encoding="utf-8")
        if execute:
            _execute(target)
        written.append(target)
    return written


def _execute(path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(notebook, path)
