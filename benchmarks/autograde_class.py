"""How long does grading a class take? Not a test: a measurement.

    python -m benchmarks.autograde_class                         # 30 students, ex12, 2 workers
    python -m benchmarks.autograde_class --students 10 --exercise ex07_layer_norm --workers 3

Every student submits the solution of one exercise (so every part runs), and the class goes
through ``python -m bplearn.grading autograde`` exactly as an instructor would run it: one
sandboxed judge job per notebook. Prints the wall-clock time, the time per submission and
the sandbox used, and checks that everyone got full marks.
"""
import argparse
import json
import os
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
    parser.add_argument("--exercise", default="ex12_mlp_from_scratch", help="solutions/<exercise>.ipynb")
    args = parser.parse_args(argv)
    solution = ROOT / "solutions" / f"{args.exercise}.ipynb"

    with tempfile.TemporaryDirectory(prefix="bplearn-bench-") as tmp:
        tmp = Path(tmp)
        for i in range(args.students):
            folder = tmp / "submissions" / f"student{i:03d}"
            folder.mkdir(parents=True)
            (folder / solution.name).write_bytes(solution.read_bytes())
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "bplearn.grading", "autograde", str(tmp / "submissions"),
                        "--assignment", "backprop", "--out", str(tmp / "results.csv"),
                        "--source", str(ROOT / "solutions"), "--workers", str(args.workers)],
                       check=True, cwd=tmp, stdout=subprocess.DEVNULL)
        seconds = time.monotonic() - started
        report = json.loads((tmp / "results.json").read_text())

    students = [s for s in report["students"] if s["status"] != "missing"]
    results = [s["exercises"][args.exercise] for s in students]
    full = sum(r["score"] == r["max_score"] for r in results)
    box = results[0]["sandbox"] if results and "sandbox" in results[0] else {}
    print(f"{len(students)} submissions of {args.exercise}, {args.workers} workers, {os.cpu_count()} CPUs: "
          f"{seconds:.1f} s in total ({seconds / max(len(students), 1):.2f} s per submission); "
          f"sandbox: {box.get('isolation')}, limits: {box.get('limits')}; {full}/{len(students)} with full marks")
    if full != len(students):
        raise SystemExit("some submissions lost points: the solution should score full marks")
    return seconds


if __name__ == "__main__":
    main()
