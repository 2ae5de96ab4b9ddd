"""Helpers for tests of exercises: mutant submissions built from a spec's Mutants."""
from __future__ import annotations

import copy
import json
from pathlib import Path

from .spec import Exercise, Mutant, SpecError


def mutant_notebook(exercise: Exercise, mutant: Mutant) -> dict:
    """The solution notebook with the mutant's edits applied to its solution cells.

    Each ``old`` text must occur exactly once among the solution cells, so a mutant can
    never silently stop matching when the solution is edited.
    """
    nb = copy.deepcopy(json.loads(Path(exercise.solution_notebook()).read_text(encoding="utf-8")))
    cells = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution")]
    for old, new in mutant.edits:
        hits = [c for c in cells if old in "".join(c["source"])]
        if len(hits) != 1 or "".join(hits[0]["source"]).count(old) != 1:
            raise SpecError(f"{exercise.notebook}: mutant {mutant.name}: {old!r} must occur exactly once "
                            f"in the solution cells (found in {len(hits)} cells)")
        hits[0]["source"] = "".join(hits[0]["source"]).replace(old, new)
    return nb


def write_notebook(nb: dict, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path
