"""The judge's scores into nbgrader's gradebook, so formgrader and ``nbgrader export`` use them.

The gradebook must already hold the assignment (``nbgrader generate_assignment`` records
every graded cell and its points). Each part of an exercise is the graded cell with the same
``grade_id``; its ``auto_score`` becomes the judge's points for that part. Nothing of the
submission is executed by nbgrader.
"""
from __future__ import annotations


def write_scores(db_url: str, assignment: str, report: dict) -> None:
    """Record every graded student's part scores; students without a submission are skipped."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gb:
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            raise LookupError(f"the gradebook {db_url} has no assignment {assignment!r}: run "
                              f"`nbgrader generate_assignment {assignment}` first") from None
        for row in report["students"]:
            graded = {nb: r for nb, r in row["exercises"].items() if r["status"] != "missing" and r.get("parts")}
            if not graded:
                continue
            gb.update_or_create_student(row["student"])
            try:
                gb.find_submission(assignment, row["student"])
            except MissingEntry:
                gb.add_submission(assignment, row["student"])
            for notebook, result in graded.items():
                for part in result["parts"]:
                    grade = gb.find_grade(part["id"], notebook, assignment, row["student"])
                    grade.auto_score = part["points"]
            gb.db.commit()
