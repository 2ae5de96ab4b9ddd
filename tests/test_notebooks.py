"""Committed notebooks must be testable by nbval in strict mode.

nbval only compares cells that have outputs recorded, so an unexecuted notebook would
"pass" while testing nothing. These checks reject that, and keep notebooks small.
"""
import json
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(
    p for d in ("course", "solutions") for p in (ROOT / d).rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
)
MAX_BYTES = 500_000


def code_cells(path):
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def test_there_are_notebooks_to_check():
    assert (ROOT / "course" / "00_welcome.ipynb") in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_was_executed_top_to_bottom_in_a_fresh_kernel(path):
    counts = [c["execution_count"] for c in code_cells(path) if "".join(c["source"]).strip()]
    assert None not in counts, f"{path.name}: {counts.count(None)} code cell(s) never executed"
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: execution counts {counts} are not 1..n"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_has_no_unexpected_errors(path):
    for cell in code_cells(path):
        tags = cell.get("metadata", {}).get("tags", [])
        errors = [o for o in cell["outputs"] if o["output_type"] == "error"]
        if errors and "raises-exception" not in tags:
            pytest.fail(f"{path.name}: a cell shows {errors[0]['ename']} but is not tagged raises-exception")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_outputs_are_small(path):
    assert path.stat().st_size < MAX_BYTES, f"{path.name} is {path.stat().st_size} bytes; clear big outputs"
