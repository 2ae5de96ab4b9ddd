"""How long does autograding a class take? Not a test: a measurement.

    python -m benchmarks.autograde_class                  # 30 students, 2 workers
    python -m benchmarks.autograde_class --students 10 --workers 3

Every student submits the complete solutions (9 notebooks, so every test cell runs),
and the whole class goes through `python -m bplearn.grading autograde` exactly as an
instructor would run it. Prints the wall-clock time, the time per student and per
notebook, and checks that everyone got full marks.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bplearn-bench-") as tmp:
        tmp = Path(tmp)
        notebooks = sorted((ROOT / "solutions").glob("*.ipynb"))
        for i in range(args.students):
            folder = tmp / "submissions" / f"student{i:03d}"
            folder.mkdir(parents=True)
            for nb in notebooks:
                shutil.copyfile(nb, folder / nb.name)
        env = dict(os.environ)
        for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR", "MPLCONFIGDIR"):
            env[var] = str(tmp / var.lower())
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "bplearn.grading", "autograde", str(tmp / "submissions"),
                        "--assignment", "backprop", "--out", str(tmp / "results.csv"),
                        "--source", str(ROOT / "solutions"), "--workers", str(args.workers)],
                       check=True, env=env, cwd=tmp, stdout=subprocess.DEVNULL)
        seconds = time.monotonic() - started
        report = json.loads((tmp / "results.json").read_text())

    students = report["students"]
    full = sum(s["score"] == s["max_score"] for s in students)
    per_student = sorted(s["seconds"] for s in students)
    print(f"{len(students)} students x {len(notebooks)} notebooks, {args.workers} workers, "
          f"{os.cpu_count()} CPUs: {seconds:.1f} s in total "
          f"({seconds / len(students):.2f} s per student, {seconds / (len(students) * len(notebooks)):.2f} s "
          f"per notebook); one student's grading took {per_student[len(per_student) // 2]:.1f} s (median); "
          f"{full}/{len(students)} with full marks")
    for s in students:
        if s["score"] != s["max_score"]:
            errors = {nb: {c: cell.get("error") for c, cell in e["cells"].items() if cell.get("error")}
                      for nb, e in s["exercises"].items() if e["score"] != e["max_score"]}
            print(f"  {s['student']}: {s['status']} {s['score']:g}/{s['max_score']:g} {s['notes']} {errors}")
    if full != len(students):
        raise SystemExit("some students lost points: the solutions should all score full marks")
    return seconds


if __name__ == "__main__":
    main()
