"""Command line: ``python -m bplearn.grading {generate, lessons, autograde} ...``.

    python -m bplearn.grading generate                      # solutions/ -> exercises/
    python -m bplearn.grading lessons [NN ...]              # solutions/lessons/ -> course/, executed
    python -m bplearn.grading autograde SUBMISSIONS --assignment backprop --out results.csv
"""
from __future__ import annotations

import argparse
import sys

from .generate import DEFAULT_ASSIGNMENT


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bplearn.grading",
                                     description="Generate and autograde the bplearn exercises with nbgrader.")
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

    auto = commands.add_parser("autograde", help="grade a folder of student submissions")
    auto.add_argument("submissions", help="one folder per student id, holding that student's notebooks")
    auto.add_argument("--assignment", required=True, help="nbgrader assignment name, e.g. backprop")
    auto.add_argument("--out", required=True, help="results CSV; a .json with per-cell detail is written next to it")
    auto.add_argument("--source", default="solutions", help="solution notebooks defining the assignment")
    auto.add_argument("--timeout", type=int, default=30, help="seconds per cell before it is interrupted (30)")
    auto.add_argument("--student-timeout", type=int, default=600,
                      help="wall-clock seconds for one student's whole submission (600)")
    auto.add_argument("--memory-limit", type=int, default=2048, help="MB of memory per grading process (2048)")
    auto.add_argument("--workers", type=int, default=2, help="students graded at the same time (2)")
    auto.add_argument("--roster", help="file with one student id per line; absent students are listed as missing")
    auto.add_argument("--keep-workdir", help="keep the scratch course directories here (autograded notebooks)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except (FileNotFoundError, FileExistsError) as error:  # a wrong path: say so, no traceback
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

    from .autograde import autograde, format_table

    if args.workers < 1 or args.timeout < 1 or args.student_timeout < 1 or args.memory_limit < 256:
        print("--workers, --timeout and --student-timeout must be positive; --memory-limit at least 256",
              file=sys.stderr)
        return 2
    results = autograde(args.submissions, args.assignment, args.out, source=args.source, timeout=args.timeout,
                        student_timeout=args.student_timeout, memory_mb=args.memory_limit,
                        workers=args.workers, roster=args.roster, keep_workdir=args.keep_workdir)
    print(format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
