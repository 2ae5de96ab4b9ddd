"""Command line: ``python -m bplearn.grading {generate, lessons, job, autograde} ...``.

    python -m bplearn.grading generate                      # solutions/ -> exercises/ + visible checks
    python -m bplearn.grading lessons [NN ...]              # solutions/lessons/ -> course/, executed
    python -m bplearn.grading job NB --spec SPEC --out R.json [--seed S]   # one submission, judged
    python -m bplearn.grading autograde SUBMISSIONS --assignment backprop --out results.csv
"""
from __future__ import annotations

import argparse
import sys

from .generate import DEFAULT_ASSIGNMENT


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bplearn.grading",
                                     description="Generate the bplearn exercises and grade them with the judge.")
    commands = parser.add_subparsers(dest="command", required=True)

    gen = commands.add_parser("generate", help="write the learner versions of the solution notebooks")
    gen.add_argument("--source", default="solutions", help="solution notebooks (default: solutions)")
    gen.add_argument("--out", default="exercises", help="where the exercises go (default: exercises)")
    gen.add_argument("--assignment", default=DEFAULT_ASSIGNMENT, help="nbgrader assignment name")

    les = commands.add_parser("lessons", help="write the learner versions of the solution lessons, executed")
    les.add_argument("numbers", nargs="*", help="lesson numbers to regenerate, e.g. 04 05 (default: all)")
    les.add_argument("--source", default="solutions/lessons", help="solution lessons (default: solutions/lessons)")
    les.add_argument("--out", default="course", help="where the learner lessons go (default: course)")
    les.add_argument("--no-execute", action="store_true", help="write sources only, without running them")

    job = commands.add_parser("job", help="judge one submitted notebook; write its JSON result")
    job.add_argument("notebook", help="the submitted notebook")
    job.add_argument("--spec", required=True, help="the exercise's judge spec, e.g. solutions/ex03_x.judge.py")
    job.add_argument("--out", required=True, help="where the JSON result goes (written atomically)")
    job.add_argument("--seed", type=int, help="the inputs' seed (fresh if absent; recorded in the result)")
    job.add_argument("--visible-only", action="store_true", help="grade the visible parts only")
    _limit_options(job)

    auto = commands.add_parser("autograde", help="grade a folder of student submissions")
    auto.add_argument("submissions", help="one folder per student id, holding that student's notebooks")
    auto.add_argument("--assignment", required=True, help="assignment name, e.g. backprop")
    auto.add_argument("--out", required=True, help="results CSV; a .json with per-part detail is written next to it")
    auto.add_argument("--source", default="solutions", help="solution notebooks and their judge specs")
    auto.add_argument("--workers", type=int, default=2, help="jobs run at the same time (2)")
    auto.add_argument("--roster", help="file with one student id per line; absent students are listed as missing")
    auto.add_argument("--seed", type=int, help="the run's seed (a regrade with the same seed is identical)")
    auto.add_argument("--gradebook", help="nbgrader gradebook URL (sqlite:///gradebook.db) to write the scores into")
    _limit_options(auto)
    return parser


def _limit_options(parser) -> None:
    parser.add_argument("--time", type=float, default=60.0, help="wall-clock seconds per submission (60)")
    parser.add_argument("--memory", type=int, default=1024, help="MB for the submission's whole process tree (1024)")
    parser.add_argument("--cell-timeout", type=float, default=20.0, help="seconds per cell or graded part (20)")


def _limits(args):
    from .sandbox import Limits

    if args.time <= 0 or args.memory < 128 or args.cell_timeout <= 0:
        raise ValueError("--time and --cell-timeout must be positive and --memory at least 128 (MB)")
    return Limits(wall=args.time, cpu=int(args.time) + 5, memory_mb=args.memory, cell_timeout=args.cell_timeout)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except (FileNotFoundError, FileExistsError, ValueError, LookupError) as error:  # say so, no traceback
        print(f"error: {error}", file=sys.stderr)
        return 2


def _run(args) -> int:
    if args.command == "generate":
        from .generate import generate, skip_slow_optional_import

        skip_slow_optional_import()
        written = generate(args.source, args.out, args.assignment)
        print(f"wrote {len(written)} exercise notebook(s) to {args.out}")
        return 0

    if args.command == "lessons":
        from .lessons import generate_lessons

        written = generate_lessons(args.source, args.out, execute=not args.no_execute, only=args.numbers)
        print(f"wrote {len(written)} lesson notebook(s) to {args.out}")
        return 0

    if args.command == "job":
        from .job import grade_notebook, write_result
        from .spec import load_spec

        result = grade_notebook(args.notebook, load_spec(args.spec), seed=args.seed,
                                visible_only=args.visible_only, limits=_limits(args))
        write_result(result, args.out)
        print(f"{args.notebook}: {result['status']} {result['score']:g}/{result['max_score']:g}")
        return 0

    from .autograde import autograde, format_table

    if args.workers < 1:
        raise ValueError("--workers must be at least 1")
    report = autograde(args.submissions, args.assignment, args.out, source=args.source, workers=args.workers,
                       roster=args.roster, seed=args.seed, limits=_limits(args), gradebook=args.gradebook)
    print(format_table(report))
    return 0

if __name__ == "__main__":
    sys.exit(main())
