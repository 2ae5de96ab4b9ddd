"""Autograding with real nbgrader, headless: `python -m bplearn.grading autograde`.

One batch grades, side by side: the solutions (full marks), the untouched exercises
(zero), 41 mutants (each a plausible wrong answer that must lose points), saboteurs
(infinite loops, os._exit, deleted and edited tests, a patched checker, 1 GB of memory,
huge output) and a student on the roster who submitted nothing. Students run two at a
time, so the whole batch takes about a minute on two cores. A second, small run checks
the per-student wall-clock budget. Run with -s to see the tables of mutants and outcomes.
"""
import csv
import hashlib
import json
import os
import pathlib
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOLUTIONS, EXERCISES = ROOT / "solutions", ROOT / "exercises"
ASSIGNMENT = "backprop"
E1, E3 = "ex01_chain_rule", "ex03_linear_backward"

# exercise -> [(mutant id, [(text in the solution, replacement), ...])]
MUTANTS = {
    "ex01_chain_rule": [
        ("missing-factor-2", [("dL_da = 2.0 * (a - y)", "dL_da = (a - y)")]),
        ("sign-flipped", [("2.0 * (a - y)", "2.0 * (y - a)")]),
        ("tanh-derivative-not-squared", [("(1.0 - a ** 2)", "(1.0 - a)")]),
        ("bias-gradient-times-x", [("dL_db = dL_dz * 1.0", "dL_db = dL_dz * x")]),
    ],
    "ex02_value_backward": [
        ("assign-instead-of-accumulate", [("a.grad += b.data * out.grad", "a.grad = b.data * out.grad"),
                                          ("b.grad += a.data * out.grad", "b.grad = a.data * out.grad")]),
        ("own-value-instead-of-other", [("a.grad += b.data * out.grad", "a.grad += a.data * out.grad"),
                                        ("b.grad += a.data * out.grad", "b.grad += b.data * out.grad")]),
        ("upstream-gradient-ignored", [("a.grad += b.data * out.grad", "a.grad += b.data"),
                                       ("b.grad += a.data * out.grad", "b.grad += a.data")]),
        ("tanh-derivative-of-input", [("(1.0 - out.data ** 2)", "(1.0 - a.data ** 2)")]),
    ],
    "ex03_linear_backward": [
        ("dW-transposed", [("dW = dout.T @ x", "dW = x.T @ dout")]),
        ("batch-average-in-layer", [("dW = dout.T @ x", "dW = dout.T @ x / len(x)")]),
        ("dx-with-transposed-weight", [("dx = dout @ W", "dx = dout @ W.T")]),
        ("bias-not-summed-over-batch", [("db = dout.sum(axis=0)", "db = dout")]),
        ("dW-sign-flipped", [("dW = dout.T @ x", "dW = -dout.T @ x")]),
    ],
    "ex04_softmax_cross_entropy": [
        ("missing-batch-average", [("dlogits /= N", "dlogits /= 1")]),
        ("y-minus-p", [("dlogits /= N", "dlogits /= -N")]),
        ("no-max-subtraction", [("shifted = logits - logits.max(axis=1, keepdims=True)", "shifted = logits")]),
        ("loss-summed-not-averaged", [("].mean()", "].sum()")]),
        ("label-off-by-one", [("dlogits[np.arange(N), labels] -= 1.0", "dlogits[np.arange(N), labels - 1] -= 1.0")]),
    ],
    "ex05_sgd_momentum": [
        ("momentum-forgotten", [("new_velocity = momentum * velocity + grad", "new_velocity = grad")]),
        ("gradient-ascent", [("new_w = w - lr * new_velocity", "new_w = w + lr * new_velocity")]),
        ("stale-velocity", [("new_w = w - lr * new_velocity", "new_w = w - lr * velocity")]),
        ("learning-rate-applied-twice", [("momentum * velocity + grad", "momentum * velocity + lr * grad")]),
    ],
    "ex06_conv_backward": [
        ("dx-overwritten-not-accumulated", [("dx[:, :, i:i + KH, j:j + KW] += ", "dx[:, :, i:i + KH, j:j + KW] = ")]),
        ("dw-overwritten-not-accumulated", [("dw += np.tensordot", "dw = np.tensordot")]),
        ("db-averaged-over-batch", [("db = dout.sum(axis=(0, 2, 3))", "db = dout.mean(axis=0).sum(axis=(1, 2))")]),
        ("db-batch-axis-kept", [("db = dout.sum(axis=(0, 2, 3))", "db = dout.sum(axis=(2, 3))")]),
        ("dw-with-flipped-kernel", [("np.tensordot(g, patch, axes", "np.tensordot(g, patch[:, :, ::-1, ::-1], axes")]),
    ],
    "ex07_maxpool_backward": [
        ("average-pool-gradient", [("dx = is_max * dout[:, :, :, None, :, None]",
                                    "dx = np.ones_like(windows) / size ** 2 * dout[:, :, :, None, :, None]")]),
        ("gradient-to-every-input", [("dx = is_max * dout", "dx = np.ones_like(windows) * dout")]),
        ("routed-to-the-minimum", [("windows.max(axis=(3, 5), keepdims=True)", "windows.min(axis=(3, 5), keepdims=True)")]),
        ("upstream-gradient-ignored", [("dx = is_max * dout[:, :, :, None, :, None]", "dx = is_max * 1.0")]),
    ],
    "ex08_bptt": [
        ("off-by-one-previous-state", [("h_prev = hs[t - 1] if t > 0 else h0", "h_prev = hs[t]")]),
        ("weight-gradients-not-accumulated", [("dWx += dWx_t", "dWx = dWx_t"), ("dWh += dWh_t", "dWh = dWh_t")]),
        ("no-gradient-from-later-steps", [("rnn_step_backward(dhs[t] + dh_later,", "rnn_step_backward(dhs[t],")]),
        ("transposed-recurrent-weight", [("dh_prev = da @ Wh.T", "dh_prev = da @ Wh")]),
        ("tanh-derivative-of-previous-state", [("da = dh * (1.0 - h ** 2)", "da = dh * (1.0 - h_prev ** 2)")]),
    ],
    "ex09_lstm_gate": [
        ("cell-gradient-misses-the-h-path", [("dc_total = dc + dh * o * (1.0 - tanh_c ** 2)", "dc_total = dc")]),
        ("cell-gradient-misses-the-next-step", [("dc_total = dc + dh", "dc_total = dh")]),
        ("dc-prev-through-the-input-gate", [("dc_prev = dc_total * f", "dc_prev = dc_total * i")]),
        ("sigmoid-derivative-as-tanh", [("df * f * (1.0 - f)", "df * (1.0 - f ** 2)")]),
        ("input-and-forget-gates-swapped", [("[di * i * (1.0 - i),          # through the sigmoids ...\n"
                                             "                         df * f * (1.0 - f),",
                                             "[df * f * (1.0 - f),          # through the sigmoids ...\n"
                                             "                         di * i * (1.0 - i),")]),
    ],
}
MUTANT_CASES = [(nb, k, mid, edits) for nb, mutants in MUTANTS.items() for k, (mid, edits) in enumerate(mutants)]

# student -> (sabotaged notebook, expected status of that notebook and of the student)
ADVERSARIAL = {
    "adv-infinite-loop": (E1, "timed out"),
    "adv-uninterruptible-loop": (E1, "timed out"),
    "adv-os-exit": (E1, "crashed"),
    "adv-deleted-tests": (E3, "graded"),
    "adv-edited-tests": (E3, "graded"),
    "adv-patched-checker": (E3, "graded"),
    "adv-1gb-allocation": (E3, "out of memory"),
    "adv-huge-output": (E1, "graded"),
}


# --- building submissions ------------------------------------------------------------------------

def load(folder, name):
    return json.loads((folder / f"{name}.ipynb").read_text(encoding="utf-8"))


def save(nb, submissions, student, name):
    """Saboteurs hand in a flat folder (alice/ex01.ipynb), the others nbgrader's (alice/backprop/ex01.ipynb)."""
    folder = submissions / student if student.startswith("adv-") else submissions / student / ASSIGNMENT
    path = folder / f"{name}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb), encoding="utf-8")


def grade_id(cell):
    return cell["metadata"].get("nbgrader", {}).get("grade_id")


def find(nb, gid):
    return next(c for c in nb["cells"] if grade_id(c) == gid)


def set_source(cell, text):
    cell["source"] = text


def mutate(name, edits):
    nb = load(SOLUTIONS, name)
    solution_cells = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution")]
    for old, new in edits:
        hits = [c for c in solution_cells if old in "".join(c["source"])]
        assert len(hits) == 1 and "".join(hits[0]["source"]).count(old) == 1, f"{name}: {old!r} must occur once"
        set_source(hits[0], "".join(hits[0]["source"]).replace(old, new))
    return nb


def sabotage(student):
    """The sabotaged notebook for one adversarial student."""
    name, _ = ADVERSARIAL[student]
    nb = load(SOLUTIONS, name)
    solution_id = name[:4] + "-solution"
    cell = find(nb, solution_id)
    text = "".join(cell["source"])
    if student == "adv-infinite-loop":
        set_source(cell, "while True:\n    pass\n" + text)
    elif student == "adv-uninterruptible-loop":    # ignores the interrupt that ends a timed-out cell
        set_source(cell, "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n" + text)
    elif student == "adv-os-exit":
        set_source(cell, "import os\nos._exit(0)\n" + text)
    elif student in ("adv-deleted-tests", "adv-edited-tests"):
        nb = load(EXERCISES, name)                   # unanswered, so its tests must fail
        if student == "adv-deleted-tests":
            nb["cells"] = [c for c in nb["cells"] if not c["metadata"].get("nbgrader", {}).get("grade")]
        else:
            for c in nb["cells"]:
                if c["metadata"].get("nbgrader", {}).get("grade"):
                    set_source(c, "print('all tests passed')  # edited by the student")
    elif student == "adv-patched-checker":          # a wrong answer, and every checker replaced
        set_source(cell, "import builtins\nimport bplearn.grading, bplearn.feedback\n\n"
                         "def check_gradient(*args, **kwargs):\n    print('✓ looks right')\n\n"
                         "bplearn.grading.check_gradient = bplearn.feedback.check_gradient = check_gradient\n"
                         "builtins.AssertionError = type('AssertionError', (Exception,), {})\n\n"
                         "def linear_backward(dout, x, W):\n"
                         "    return np.zeros((len(dout), W.shape[1])), np.zeros_like(W), np.zeros(len(W))\n")
    elif student == "adv-1gb-allocation":           # right answer, but 1 GiB of scratch memory per call
        set_source(cell, text.replace("    ### BEGIN SOLUTION", "    scratch = np.ones((1024, 1024, 128))\n"
                                                             "    ### BEGIN SOLUTION"))
    elif student == "adv-huge-output":              # unanswered, and two million lines of output
        nb = load(EXERCISES, name)
        cell = find(nb, solution_id)
        set_source(cell, "print('\\n'.join(map(str, range(2_000_000))))\n" + "".join(cell["source"]))
    return nb


def build_submissions(submissions):
    for name in sorted(p.stem for p in SOLUTIONS.glob("*.ipynb")):
        save(load(SOLUTIONS, name), submissions, "honest", name)
        save(load(EXERCISES, name), submissions, "blank", name)
    for nb_name, k, _, edits in MUTANT_CASES:
        save(mutate(nb_name, edits), submissions, f"mutant-{k + 1}", nb_name)
    for student, (name, _) in ADVERSARIAL.items():
        save(sabotage(student), submissions, student, name)
        other = E3 if name == E1 else E1                # one honest notebook next to the sabotaged one
        save(load(SOLUTIONS, other), submissions, student, other)
    # a symlink could point anywhere on the grading machine: it is not followed
    (submissions / "adv-huge-output" / "ex05_sgd_momentum.ipynb").symlink_to(SOLUTIONS / "ex05_sgd_momentum.ipynb")


def digest(folder):
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        h.update(str(path.relative_to(folder)).encode() + oct(path.stat().st_mode).encode())
        if path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()


def grading_env(tmp):
    env = dict(os.environ)
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR", "MPLCONFIGDIR"):
        env[var] = str(tmp / var.lower())
    return env


def run_autograde(base, submissions, *options):
    out = base / "results.csv"
    command = [sys.executable, "-m", "bplearn.grading", "autograde", str(submissions), "--assignment", ASSIGNMENT,
               "--out", str(out), "--source", str(SOLUTIONS), "--keep-workdir", str(base / "work"), *options]
    started = time.monotonic()
    done = subprocess.run(command, cwd=base, env=grading_env(base), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(out.with_suffix(".json").read_text())
    return {"students": {s["student"]: s for s in report["students"]}, "max": report["max_scores"],
            "csv": list(csv.DictReader(out.open())), "stdout": done.stdout, "seconds": time.monotonic() - started,
            "work": base / "work"}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("autograde")
    submissions = base / "submissions"
    build_submissions(submissions)
    (base / "roster.txt").write_text("absent-student\nhonest\n..\n")
    before = digest(submissions)
    result = run_autograde(base, submissions, "--timeout", "5", "--memory-limit", "1024", "--workers", "2",
                           "--student-timeout", "300", "--roster", str(base / "roster.txt"))
    result["unchanged"] = before == digest(submissions)
    print(f"\nautograded {len(result['students'])} students in {result['seconds']:.0f} s")
    return result


def exercise(batch, student, name):
    return batch["students"][student]["exercises"][name]


# --- the honest and the blank ------------------------------------------------------------------

def test_every_solution_notebook_scores_full_marks(batch):
    honest = batch["students"]["honest"]
    assert honest["status"] == "graded"
    for name, max_score in batch["max"].items():
        assert exercise(batch, "honest", name)["score"] == max_score > 0, name
    assert honest["score"] == honest["max_score"] == sum(batch["max"].values())


def test_every_untouched_exercise_scores_zero(batch):
    blank = batch["students"]["blank"]
    assert blank["status"] == "graded" and blank["score"] == 0
    assert all(exercise(batch, "blank", name)["score"] == 0 for name in batch["max"])


def test_untouched_exercises_run_cleanly_except_the_cells_that_need_an_answer(batch):
    # like `nbgrader validate --invert`: given cells run without errors, every test fails
    folder = batch["work"] / "students" / "blank" / "autograded" / "blank" / ASSIGNMENT
    for name in batch["max"]:
        for cell in json.loads((folder / f"{name}.ipynb").read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            errors = [o["ename"] for o in cell["outputs"] if o["output_type"] == "error"]
            role = cell["metadata"].get("nbgrader", {})
            if role.get("grade"):
                assert errors == ["NotImplementedError"], (name, grade_id(cell), errors)
            else:
                assert errors == [], (name, grade_id(cell), errors)


def test_kernels_ran_on_this_python(batch):
    spec = json.loads((batch["work"] / "jupyter-data" / "kernels" / "python3" / "kernel.json").read_text())
    assert spec["argv"][0] == sys.executable


# --- mutants ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("nb_name, k, mutant, edits", MUTANT_CASES, ids=[f"{c[0][:4]}-{c[2]}" for c in MUTANT_CASES])
def test_mutant_loses_points(batch, nb_name, k, mutant, edits):
    result = exercise(batch, f"mutant-{k + 1}", nb_name)
    assert result["status"] == "graded"
    assert result["score"] < result["max_score"], f"{nb_name}: mutant {mutant} kept full marks"
    failing = [cell for cell in result["cells"].values() if cell["score"] < cell["max_score"]]
    assert all(cell.get("error") for cell in failing)


def test_each_exercise_has_at_least_three_mutants_and_all_are_caught(batch):
    rows = []
    for nb_name, k, mutant, _ in MUTANT_CASES:
        result = exercise(batch, f"mutant-{k + 1}", nb_name)
        first = next((c["error"] for c in result["cells"].values() if c.get("error")), "")
        rows.append((nb_name, mutant, f"{result['score']:g}/{result['max_score']:g}", first[:90]))
    print("\n" + "\n".join(f"{nb:28} {mutant:36} {score:>6}  {message}" for nb, mutant, score, message in rows))
    assert all(len(MUTANTS[name]) >= 3 for name in batch["max"])
    assert len(rows) == sum(len(m) for m in MUTANTS.values()) and all(r[2].split("/")[0] != r[2].split("/")[1]
                                                                       for r in rows)


def test_feedback_names_the_mistake_for_typical_mutants(batch):
    def error(k, name, cell):
        return exercise(batch, f"mutant-{k}", name)["cells"][cell]["error"]

    assert "it looks transposed" in error(1, E3, "ex03-test-dW")
    assert "5 times too small, and 5 is the batch size" in error(2, E3, "ex03-test-dW")
    assert "Did you average the loss over the batch?" in error(1, "ex04_softmax_cross_entropy", "ex04-test-gradient")
    assert "contains inf" in error(3, "ex04_softmax_cross_entropy", "ex04-test-large-logits")
    assert "use += rather than =" in error(1, "ex02_value_backward", "ex02-test-mul")
    assert "did you forget to sum over axis 0 (the batch axis)?" in error(4, "ex06_conv_backward", "ex06-test-db")


# --- saboteurs -----------------------------------------------------------------------------------

@pytest.mark.parametrize("student", sorted(ADVERSARIAL))
def test_sabotage_scores_zero_with_a_clear_status_and_spares_the_other_exercise(batch, student):
    name, status = ADVERSARIAL[student]
    other = E3 if name == E1 else E1
    result = batch["students"][student]
    assert exercise(batch, student, name)["score"] == 0
    assert exercise(batch, student, name)["status"] == status == result["status"]
    assert exercise(batch, student, other)["score"] == batch["max"][other], "the honest notebook lost points"
    if status != "graded":
        assert f"{name}: {status}" in result["notes"]


def test_deleted_test_cells_are_put_back_and_run(batch):
    folder = batch["work"] / "students" / "adv-deleted-tests" / "autograded" / "adv-deleted-tests" / ASSIGNMENT
    nb = json.loads((folder / f"{E3}.ipynb").read_text())
    restored = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade")]
    assert len(restored) == 3
    assert all("was missing from the submission" in "".join(c["source"]) for c in restored)
    assert all(o["ename"] == "NotImplementedError" for c in restored for o in c["outputs"] if o["output_type"] == "error")


def test_edited_test_cells_are_restored_from_the_gradebook(batch):
    folder = batch["work"] / "students" / "adv-edited-tests" / "autograded" / "adv-edited-tests" / ASSIGNMENT
    graded = json.loads((folder / f"{E3}.ipynb").read_text())
    original = load(SOLUTIONS, E3)                    # what the gradebook holds, hidden tests included
    for cell in original["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade"):
            assert "".join(find(graded, grade_id(cell))["source"]) == "".join(cell["source"])


def test_symlinked_notebooks_are_not_graded(batch):
    assert exercise(batch, "adv-huge-output", "ex05_sgd_momentum")["status"] == "missing"


def test_cli_reports_a_missing_submissions_folder_without_a_traceback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "bplearn.grading", "autograde", str(tmp_path / "nope"),
                           "--assignment", ASSIGNMENT, "--out", str(tmp_path / "r.csv")],
                          capture_output=True, text=True, env=grading_env(tmp_path))
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: submissions directory {tmp_path / 'nope'} does not exist"


def test_huge_output_is_truncated_in_the_graded_notebook(batch):
    folder = batch["work"] / "students" / "adv-huge-output" / "autograded" / "adv-huge-output" / ASSIGNMENT
    path = folder / f"{E1}.ipynb"
    assert path.stat().st_size < 100_000
    assert "Output truncated" in path.read_text()


def test_student_on_the_roster_without_a_submission_is_missing(batch):
    absent = batch["students"]["absent-student"]
    assert absent["status"] == "missing" and absent["score"] == 0
    assert all(e["status"] == "missing" for e in absent["exercises"].values())


def test_roster_entry_dot_dot_is_refused_without_escaping_the_submissions_folder(batch):
    dotdot = batch["students"][".."]
    assert dotdot["status"] == "crashed" and dotdot["score"] == 0
    assert "cannot be an nbgrader student id" in dotdot["notes"]
    assert batch["students"]["honest"]["status"] == "graded"


def test_submissions_directory_is_left_exactly_as_it_was(batch):
    assert batch["unchanged"]


def test_csv_has_a_row_per_student_and_a_score_column_per_exercise(batch):
    rows = {row["student"]: row for row in batch["csv"]}
    assert set(rows) == set(batch["students"])
    assert list(batch["csv"][0]) == ["student", "status", "score", "max_score", *batch["max"], "notes"]
    assert rows["honest"]["score"] == rows["honest"]["max_score"] == f"{sum(batch['max'].values()):g}"
    assert rows["adv-os-exit"]["status"] == "crashed" and rows["adv-os-exit"][E1] == "0"
    outcomes = "\n".join(f"{s:26} {r['status']:13} {r['score']:>3}/{r['max_score']}  {r['notes'][:80]}"
                         for s, r in sorted(rows.items()) if s.startswith(("adv", "absent", "honest", "blank")))
    print(f"\n{outcomes}\nbatch of {len(rows)} students graded in {batch['seconds']:.0f} s")


# --- the per-student wall-clock budget ------------------------------------------------------------

def test_a_student_over_the_time_budget_is_stopped_and_keeps_finished_notebooks(tmp_path):
    submissions = tmp_path / "submissions"
    save(load(SOLUTIONS, E1), submissions, "slowpoke", E1)
    stuck = load(SOLUTIONS, E3)
    set_source(find(stuck, "ex03-solution"),
               "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n")
    save(stuck, submissions, "slowpoke", E3)
    result = run_autograde(tmp_path, submissions, "--timeout", "120", "--student-timeout", "20")
    slowpoke = result["students"]["slowpoke"]
    assert slowpoke["status"] == "timed out"
    assert exercise(result, "slowpoke", E1)["score"] == result["max"][E1]     # graded before the budget ran out
    assert exercise(result, "slowpoke", E3)["status"] == "timed out"
    assert result["seconds"] < 120, "the cell timeout of 120 s was not what ended the run"
    probe = subprocess.Popen(["sleep", "60"], cwd=tmp_path)   # the check below does see such processes
    assert str(probe.pid) in _processes_mentioning(str(tmp_path))
    probe.kill()
    probe.wait()
    deadline = time.monotonic() + 15                   # no kernel of this run outlives it
    while time.monotonic() < deadline and _processes_mentioning(str(tmp_path)):
        time.sleep(0.5)
    assert not _processes_mentioning(str(tmp_path))


def _processes_mentioning(path):
    """Processes whose command line or working directory lies under ``path`` (kernels run in the scratch dir)."""
    found = []
    for proc in pathlib.Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (path.encode() in (proc / "cmdline").read_bytes()
                                        or os.readlink(proc / "cwd").startswith(path)):
                found.append(proc.name)
        except OSError:
            continue
    return found
