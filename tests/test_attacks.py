"""The adversarial suite (issue 17): every attack gains no marks, costs no other student
anything and loses no submission.

One class is graded once for the module (``python -m bplearn.grading autograde``, two
workers, so attacks run beside honest students), on the toy exercise in
tests/grading_fixtures/. Each attacker hands in either a wrong answer or the untouched
stub plus the attack; the test then checks the attacker scored no more than that answer
alone deserves, and that the honest students kept full marks. Time and memory are bounded
(20 s per submission, 512 MB per process tree), so the batch takes about a minute.
"""
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest

from bplearn.grading.sandbox import bwrap_path
from bplearn.grading.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "grading_fixtures"
SPEC = FIXTURES / "ex00_toy.judge.py"
NB = "ex00_toy"
SOLUTION_CELL = "ex00-solution"
WRONG_DW = "    dw = (dout * x).mean(axis=0)  # wrong on purpose\n"


def solution():
    return json.loads((FIXTURES / f"{NB}.ipynb").read_text())


def cell(nb, grade_id):
    return next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)


def with_code(code, *, wrong=True, before=True):
    """The solution with ``code`` added to the answer cell (and, by default, a wrong dw)."""
    nb = solution()
    c = cell(nb, SOLUTION_CELL)
    text = "".join(c["source"])
    if wrong:
        text = text.replace("    dw = (dout * x).sum(axis=0)\n", WRONG_DW)
    c["source"] = code + "\n" + text if before else text + "\n" + code
    return nb


def stub_with(code):
    """Every answer left undone (all parts raise NotImplementedError), plus ``code``."""
    nb = solution()
    for c in nb["cells"]:
        if c["metadata"].get("nbgrader", {}).get("solution"):
            name = "slope = None" if "slope" in "".join(c["source"]) else None
            c["source"] = name or "".join(c["source"]).split("### BEGIN SOLUTION")[0].rstrip(" ") + "    raise NotImplementedError()\n"
    c = cell(nb, SOLUTION_CELL)
    c["source"] = code + "\n" + "".join(c["source"])
    return nb


class Canary:
    """A TCP listener on 127.0.0.1 that records whether anybody connected (never any other address)."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(5)
        self.server.settimeout(0.2)
        self.port, self.connections, self.stop = self.server.getsockname()[1], 0, False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop:
            try:
                conn, _ = self.server.accept()
                self.connections += 1
                conn.close()
            except OSError:
                continue

    def close(self):
        self.stop = True
        self.thread.join()
        self.server.close()


def attacks(paths):
    """student -> (notebook dict or raw bytes, the most that student's honest work earns)."""
    wrong_max = 7 - 2 - 1   # the wrong dw loses ex00-dw (2) and ex00-dw-hidden (1)
    others = 3              # an attack inside the affine cell: slope, fd and predict are still honest work
    port = paths["port"]
    return {
        "patch-numpy": (with_code("import numpy as np\nnp.allclose = lambda *a, **k: True\n"
                                  "np.isclose = lambda a, b, **k: np.ones(np.shape(a), bool)\n"
                                  "np.testing.assert_allclose = lambda *a, **k: None"), wrong_max),
        "patch-check-helpers": (with_code(
            "import bplearn.feedback.compare as c, bplearn.feedback.parts as p, builtins\n"
            "c.diagnose = lambda *a, **k: None\np.judge_part = lambda *a, **k: None\n"
            "builtins.AssertionError = Exception\nabs = lambda x: 0"), wrong_max),
        "ipython-transformers": (stub_with(
            "ip = get_ipython()\nip.input_transformers_cleanup.append(lambda lines: ['pass\\n'])\n"
            "import ast\nclass Strip(ast.NodeTransformer):\n    def visit_Assert(self, node): return None\n"
            "ip.ast_transformers.append(Strip())"), 0),
        "forged-results": (stub_with(
            "import atexit, json, os, numpy as np\n"
            "def forge():\n"
            "    os.makedirs('out', exist_ok=True)\n"
            "    np.savez('out/outputs.npz', a=np.zeros(3))\n"
            "    parts = {p: [{'status': 'ok', 'value': {'kind': 'array', 'key': 'a', 'pytype': 'ndarray'}}] * 2\n"
            "             for p in ['ex00-dx', 'ex00-dw', 'ex00-dw-hidden', 'ex00-slope', 'ex00-fd', 'ex00-predict']}\n"
            "    json.dump({'parts': parts, 'cell_errors': []}, open('out/outputs.json', 'w'))\n"
            f"    for p in {paths['results']!r}:\n"
            "        try: open(p, 'w').write('{\"status\": \"graded\", \"score\": 7}')\n"
            "        except OSError: pass\n"
            "atexit.register(forge)\nforge()"), 0),
        "edited-test-cells": (_edited_tests(), 0),
        "os-exit": (with_code("import os\nos._exit(0)", wrong=False), others),
        "infinite-loop": (with_code("import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
                                    "while True:\n    pass", wrong=False), others),
        "cell-loop-interrupted": (with_code("while True:\n    pass", wrong=False, before=True), others),
        "memory-bomb": (with_code("import numpy as np\nblocks = [np.ones(2**26) for _ in range(64)]", wrong=False), others),
        "memory-bomb-children": (with_code(
            "import os, numpy as np, time\n"
            "for _ in range(4):\n"
            "    if os.fork() == 0:\n        blocks = np.ones(2**26); time.sleep(30); os._exit(0)\n"
            "blocks = np.ones(2**26)\ntime.sleep(30)", wrong=False), others),
        "fork-bomb": (with_code(
            "import os, time\n"
            "for _ in range(200):\n"
            "    try:\n        os.fork()\n    except OSError:\n        pass\n"
            "time.sleep(60)", wrong=False), others),
        "huge-line": (stub_with("import sys\nsys.stdout.write('x' * 200_000_000)\n"
                                "sys.stderr.write('y' * 50_000_000)"), 0),
        "read-secrets": (stub_with(
            "import os, glob\n"
            f"for p in {paths['secrets']!r}:\n"
            "    print('SECRET-VISIBLE' if os.path.exists(p) else 'secret-hidden', p)\n"
            "print('found', glob.glob('/work/**/*.judge.py', recursive=True), glob.glob('/**/gradebook.db'))"), 0),
        "network": (stub_with(
            "import socket\n"
            "try:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'leak')\n"
            "    print('NETWORK-OPEN')\n"
            "except OSError as e:\n    print('network-closed', e)"), 0),
        "write-elsewhere": (stub_with(
            f"for p in {paths['writable_targets']!r}:\n"
            "    try:\n        open(p, 'w').write('zeroed')\n        print('WROTE', p)\n"
            "    except OSError as e:\n        print('blocked', p, type(e).__name__)"), 0),
        "kill-others": (stub_with(
            "import os, signal, glob\n"
            "for pid in [int(p) for p in os.listdir('/proc') if p.isdigit()]:\n"
            "    try:\n        os.kill(pid, signal.SIGKILL) if pid != os.getpid() else None\n"
            "    except OSError: pass\n"
            "try: os.kill(-1, signal.SIGKILL)\nexcept OSError: pass\n"
            "print('connection files', glob.glob('/**/kernel-*.json', recursive=True)[:3])"), 0),
        "not-a-notebook": (b"\x89PNG this is not json", 0),
        "stderr-debug": (with_code("import sys\nprint('debug: starting', file=sys.stderr)", wrong=False, before=False), 7),
    }


def _edited_tests():
    nb = stub_with("")
    for c in nb["cells"]:
        meta = c["metadata"].get("nbgrader", {})
        if meta.get("locked") and c["cell_type"] == "code":
            c["source"] = "print('all tests passed')  # edited by the student"
    nb["cells"] = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") != "ex00-intro"]
    return nb


HONEST = ("honest-a", "honest-b", "honest-c")


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        h.update(str(path.relative_to(folder)).encode())
        if path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("attacks")
    subs, out = base / "submissions", base / "grades" / "toy.csv"
    results = out.with_name("toy.results")
    canary = Canary()
    paths = {"port": canary.port,
             "secrets": [str(SPEC), str(FIXTURES / f"{NB}.ipynb"), str(ROOT / "solutions"), str(results)],
             "results": [str(results / h / f"{NB}.json") for h in HONEST] + [str(out), str(out.with_suffix(".json"))],
             "writable_targets": [str(subs / "honest-a" / f"{NB}.ipynb"), str(results / "honest-a" / f"{NB}.json"),
                                  str(base / "gradebook.db"), "/tmp/../submission/program.json"]}
    students = attacks(paths)
    marker = f"attack-batch-{uuid.uuid4().hex}"   # a cell every submission adds: finds this batch's processes
    for h in HONEST:
        (subs / h).mkdir(parents=True)
        (subs / h / f"{NB}.ipynb").write_text(json.dumps(marked(solution(), marker)))
    for student, (nb, _) in students.items():
        (subs / student).mkdir(parents=True)
        data = nb if isinstance(nb, bytes) else json.dumps(marked(nb, marker)).encode()
        (subs / student / f"{NB}.ipynb").write_bytes(data)
    (subs / "symlinker").mkdir()
    (subs / "symlinker" / f"{NB}.ipynb").symlink_to(FIXTURES / f"{NB}.ipynb")
    before = digest(subs)
    env = {**os.environ, "BPLEARN_VISIBLE_PATH": str(base / "visible")}
    command = [sys.executable, "-m", "bplearn.grading", "autograde", str(subs), "--assignment", "toy",
               "--out", str(out), "--source", str(FIXTURES), "--workers", "2", "--time", "20", "--memory", "512",
               "--cell-timeout", "3", "--seed", "7"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    canary.close()
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(out.with_suffix(".json").read_text())
    return {"students": {s["student"]: s for s in report["students"]}, "maxima": {k: v[1] for k, v in students.items()},
            "canary": canary.connections, "unchanged": digest(subs) == before, "out": out, "results": results,
            "report": report, "command": command, "env": env, "stdout": done.stdout, "marker": marker}


def marked(nb, marker):
    nb["cells"].append({"cell_type": "code", "metadata": {}, "source": f"open('/tmp/batch-marker', 'w').write({marker!r})", "outputs": [],
                        "execution_count": None})
    return nb


def result(batch, student):
    return batch["students"][student]["exercises"][NB]


@pytest.mark.parametrize("student", sorted(attacks({"port": 0, "secrets": [], "results": [], "writable_targets": []})))
def test_attack_gains_no_marks(batch, student):
    r = result(batch, student)
    assert r["score"] <= batch["maxima"][student], (student, r["status"], r["parts"])


def test_honest_students_keep_full_marks_beside_every_attack(batch):
    for h in HONEST:
        r = result(batch, h)
        assert (r["status"], r["score"]) == ("graded", 7.0), r


def test_no_submission_is_changed_or_lost(batch):
    assert batch["unchanged"]
    graded = {s for s, row in batch["students"].items() if row["status"] != "missing"}
    assert graded >= set(HONEST) | set(batch["maxima"])


def test_statuses_say_what_happened(batch):
    expect = {"os-exit": "crashed", "infinite-loop": "timeout", "memory-bomb": "memory",
              "memory-bomb-children": "memory", "not-a-notebook": "not a notebook", "edited-test-cells": "tampered",
              "stderr-debug": "graded", "patch-numpy": "graded", "symlinker": "not a notebook"}
    got = {s: result(batch, s)["status"] for s in expect}
    assert got == expect


def test_a_submission_that_patches_numpy_still_fails_because_judging_is_another_process(batch):
    parts = {p["id"]: p for p in result(batch, "patch-numpy")["parts"]}
    assert parts["ex00-dw"]["status"] == "wrong" and "averaged over the batch" in parts["ex00-dw"]["feedback"]
    assert parts["ex00-dx"]["status"] == "correct"      # the other parts are judged on their own


def test_an_endless_cell_is_cut_and_the_other_parts_still_count(batch):
    r = result(batch, "cell-loop-interrupted")
    assert r["status"] == "graded" and any("time limit" in e["message"] for e in r["cell_errors"])


def test_edited_and_deleted_locked_cells_are_restored_and_reported(batch):
    r = result(batch, "edited-test-cells")
    assert "ex00-setup" in r["restored_cells"] and "ex00-intro" in r["restored_cells"]
    assert all(p["status"] == "not done" for p in r["parts"] if not p["hidden"])   # the restored setup ran


def test_output_is_capped_in_bytes(batch):
    r = result(batch, "huge-line")
    assert len(r["stdout"]) < 70_000 and "more bytes of output were cut" in r["stdout"]
    assert len(r["stderr"]) < 70_000


def test_secrets_results_and_other_students_are_not_visible(batch):
    text = result(batch, "read-secrets")["stdout"]
    assert "SECRET-VISIBLE" not in text and text.count("secret-hidden") == 4
    assert "found [] []" in text


def test_no_network_even_to_localhost(batch):
    assert "network-closed" in result(batch, "network")["stdout"]
    assert batch["canary"] == 0


def test_no_write_outside_the_scratch_folder(batch):
    text = result(batch, "write-elsewhere")["stdout"]
    assert "WROTE" not in text and text.count("blocked") == 4


def test_forged_records_change_nothing(batch):
    assert result(batch, "forged-results")["score"] == 0
    for h in HONEST:
        assert json.loads((batch["results"] / h / f"{NB}.json").read_text())["score"] == 7.0


def test_stderr_never_costs_marks(batch):
    r = result(batch, "stderr-debug")
    assert r["score"] == 7.0 and "debug: starting" in r["stderr"]


def test_learner_code_ran_as_an_unprivileged_user_in_the_sandbox(batch):
    if bwrap_path() is None:
        pytest.skip("bubblewrap is not installed (tests/test_sandbox.py fails for this in CI)")
    box = result(batch, "honest-a")["sandbox"]
    assert box["isolation"] == "bubblewrap"
    if os.geteuid() == 0:
        assert "uid 0" not in box["user"] and box["limits"].startswith("cgroup")


def test_no_process_is_left_behind(batch):
    """No process of this batch (the fork bomb's sleepers included) outlives grading.

    Other graders may be running on the machine, so a process counts as ours when its private
    /tmp (alive as long as one of its processes is) holds this batch's marker (readable as root)."""
    if os.geteuid() != 0:
        pytest.skip("reading other processes' mounts needs root")
    leftovers = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and batch["marker"] in (proc / "root/tmp/batch-marker").read_text():
                leftovers.append(proc.name)
        except OSError:
            continue
    assert not leftovers


def test_results_record_seed_and_judge_version_and_a_regrade_reproduces_them(batch, tmp_path):
    r = result(batch, "patch-numpy")
    assert r["seed"] == 7 and r["judge_version"].startswith("bplearn ")
    out = tmp_path / "again.json"
    subprocess.run([sys.executable, "-m", "bplearn.grading", "job",
                    str(batch["out"].parent.parent / "submissions" / "patch-numpy" / f"{NB}.ipynb"),
                    "--spec", str(SPEC), "--out", str(out), "--seed", "7"], check=True, env=batch["env"],
                   capture_output=True, timeout=120)
    again = json.loads(out.read_text())
    assert [(p["id"], p["points"], p["feedback"]) for p in again["parts"]] == \
        [(p["id"], p["points"], p["feedback"]) for p in r["parts"]]


def test_an_interrupted_batch_resumes_and_keeps_finished_results(batch):
    victim = batch["results"] / "honest-b" / f"{NB}.json"
    kept = batch["results"] / "honest-a" / f"{NB}.json"
    stamp = kept.stat().st_mtime_ns
    victim.unlink()                                   # as if the run stopped before this job
    done = subprocess.run(batch["command"], env=batch["env"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "1 notebook(s) to grade" in done.stdout
    assert kept.stat().st_mtime_ns == stamp and json.loads(victim.read_text())["score"] == 7.0
