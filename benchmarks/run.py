"""Run the speed benchmarks and print (or write) a table of ratios.

    python -m benchmarks.run                 # all benchmarks
    python -m benchmarks.run --only cnn,mlp  # some of them
    python -m benchmarks.run --write         # also write benchmarks/RESULTS.md

Each module in BENCHMARKS exposes ``run() -> list[dict]``; a row has the keys
name, bplearn_ms, reference, reference_ms, ratio, target, met (see common.row).
A module may also define NOTES (Markdown), which --write adds below the table.
"""
import os

# One BLAS / OpenMP thread, set before numpy (or torch) is imported anywhere.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import datetime  # noqa: E402
import importlib  # noqa: E402
from pathlib import Path  # noqa: E402

from .common import format_table, machine  # noqa: E402

BENCHMARKS = ["benchmarks.cnn", "benchmarks.mlp", "benchmarks.rnn", "benchmarks.widgets"]

RESULTS = Path(__file__).with_name("RESULTS.md")
# Sections of RESULTS.md that other scripts measure (benchmarks/autograde_class.py): --write
# keeps everything from this heading on.
KEPT_FROM = "## Grading a class"


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="comma-separated short names, e.g. cnn,mlp")
    parser.add_argument("--write", action="store_true", help="write benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    known = {module.rsplit(".", 1)[1] for module in BENCHMARKS}
    if only - known:
        parser.error(f"unknown benchmark(s) {sorted(only - known)}; choose from {sorted(known)}")

    rows: list[dict] = []
    notes: list[str] = []
    for module in BENCHMARKS:
        if only and module.rsplit(".", 1)[1] not in only:
            continue
        print(f"running {module} ...", flush=True)
        loaded = importlib.import_module(module)
        rows += loaded.run()
        if getattr(loaded, "NOTES", ""):
            notes.append(loaded.NOTES.strip())

    table = format_table(rows)
    print(table)
    if args.write:
        RESULTS.write_text(results_markdown(table, notes) + _kept_sections())
        print(f"wrote {RESULTS}")
    return rows


def results_markdown(table: str, notes: list[str] = ()) -> str:
    facts = machine()
    return (
        "# Benchmark results\n\n"
        f"Written by `python -m benchmarks.run --write` on {datetime.date.today().isoformat()}.\n\n"
        f"Machine: {facts['cpu']}, {facts['cores']} cores (a cloud VM: other tenants may share them); "
        f"Python {facts['python']}, numpy {facts['numpy']}, torch {facts['torch']}.\n\n"
        "Method: one thread for BLAS and torch; bplearn and the reference run in turns; each time is "
        "the median over 30 rounds of this process's CPU time per call (see benchmarks/common.py). "
        "ratio = bplearn / reference; a benchmark meets its target when ratio <= target.\n\n"
        + table + "\n"
        + "".join("\n" + note + "\n" for note in notes)
    )


def _kept_sections() -> str:
    """The part of the current RESULTS.md from KEPT_FROM on ("" if there is none)."""
    text = RESULTS.read_text() if RESULTS.exists() else ""
    start = text.find(KEPT_FROM)
    return "" if start < 0 else "\n" + text[start:]


if __name__ == "__main__":
    main()
