"""The trusted judge, called directly (no sandbox): verdicts, messages, tampering, plain data.

Each test judges an answer the way the sandbox would hand it over and checks the message a
learner would read. References come from the toy spec's solution notebook, never from the
code under test.
"""
import json
from pathlib import Path

import numpy as np
import pytest

from bplearn.feedback.parts import Case, judge_part
from bplearn.feedback.shipped import decode_case
from bplearn.grading import judge
from bplearn.grading.generate import visible_data
from bplearn.grading.judge import build_program, draw_cases, part_meta, read_outputs
from bplearn.grading.spec import SpecError, load_spec, check_notebook

FIXTURES = Path(__file__).resolve().parent / "grading_fixtures"


@pytest.fixture(scope="module")
def toy():
    return load_spec(FIXTURES / "ex00_toy.judge.py")


def verdict(toy, part_id, answers, seed=3):
    part = toy.part(part_id)
    cases = draw_cases(toy, seed, [part])[part_id]
    return judge_part(part_meta(part), cases, [("ok", a(c)) if callable(a) else a for a, c in zip(answers, cases)])


def right(case):
    x, w, dout = case.inputs["x"], case.inputs["w"], case.inputs["dout"]
    return dout * w, (dout * x).sum(axis=0)


def test_a_right_answer_scores_the_parts_points(toy):
    r = verdict(toy, "ex00-dw", [right, right])
    assert (r.status, r.points, r.max_points) == ("correct", 2.0, 2.0)


def test_a_known_mistake_gets_its_hint(toy):
    r = verdict(toy, "ex00-dw", [lambda c: (c.inputs["dout"] * c.inputs["w"], (c.inputs["dout"] * c.inputs["x"]).mean(0))] * 2)
    assert r.points == 0 and "Likely mistake: averaged over the batch" in r.feedback


def test_missing_return_wrong_count_nan_shape_and_stub_each_get_a_plain_message(toy):
    cases = {
        "returned None. Did it forget its `return` line? It should return 2 values": lambda c: None,
        "should return 2 values in the documented order, but returned a tuple of length 3": lambda c: (1, 2, 3),
        "contains NaN": lambda c: (right(c)[0], right(c)[1] * np.nan),
        "has shape": lambda c: (right(c)[0], right(c)[1][:, None].T.T),
    }
    for text, answer in cases.items():
        assert text in verdict(toy, "ex00-dw", [answer, answer]).feedback, text
    stub = verdict(toy, "ex00-dw", [("not done", {"name": "affine_backward"})] * 2)
    assert stub.status == "not done" and "still raises NotImplementedError" in stub.feedback
    missing = verdict(toy, "ex00-dw", [("missing", {"name": "affine_backward"})] * 2)
    assert "no function called `affine_backward`" in missing.feedback
    error = verdict(toy, "ex00-dw", [("error", {"type": "ValueError", "message": "bad", "where": ["line 3 of your code: x"]})])
    assert "raised ValueError: bad (at line 3 of your code: x)" in error.feedback


def test_one_wrong_case_fails_the_part_and_no_answer_is_no_result(toy):
    assert verdict(toy, "ex00-dw", [right, lambda c: (0, 0)]).status == "wrong"
    assert judge_part(part_meta(toy.part("ex00-dw")), [Case({})], None).status == "no result"


def test_accuracy_is_judged_on_labels_that_never_reach_the_sandbox(toy, tmp_path):
    part = toy.part("ex00-predict")
    cases = draw_cases(toy, 5, [part])["ex00-predict"]
    labels = cases[0].inputs["_labels"]
    assert judge_part(part_meta(part), cases, [("ok", labels.copy())]).status == "correct"
    assert "accuracy 0.0%" in judge_part(part_meta(part), cases, [("ok", 1 - labels)]).feedback
    judge.write_workdir(tmp_path, [], [part], {"ex00-predict": cases}, 5)
    with np.load(tmp_path / "inputs.npz") as sent:
        assert sent.files == ["ex00-predict/0/X"]


def test_value_left_as_none_is_not_done(toy):
    assert verdict(toy, "ex00-slope", [("ok", None)]).status == "not done"
    assert verdict(toy, "ex00-slope", [("ok", 12.0)]).status == "correct"


def test_inputs_are_fresh_per_seed_and_reproducible(toy):
    part = toy.part("ex00-dw")
    a, b, c = (draw_cases(toy, s, [part])["ex00-dw"][0].inputs["x"] for s in (1, 1, 2))
    assert np.array_equal(a, b) and not (a.shape == c.shape and np.allclose(a, c))


def test_locked_cells_come_from_the_solution_and_tampering_is_reported(toy):
    solution = json.loads((FIXTURES / "ex00_toy.ipynb").read_text())
    theirs = json.loads(json.dumps(solution))
    setup = next(c for c in theirs["cells"] if c["metadata"]["nbgrader"]["grade_id"] == "ex00-setup")
    setup["source"] = "import numpy as np\nnp.allclose = lambda *a, **k: True"
    theirs["cells"].insert(3, {"cell_type": "code", "metadata": {}, "source": "helper = 1", "outputs": []})
    cells, tampered = build_program(solution, theirs)
    assert tampered == ["ex00-setup"]
    assert "from bplearn.feedback.exercise import check, summary" in cells[0] and "helper = 1" in cells
    assert not any("check(" in c for c in cells[1:-1]), "graded cells are never run"


def test_answers_are_read_as_plain_data_only(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    np.save(out / "x.npy", np.array([object()], dtype=object), allow_pickle=True)
    np.savez(out / "outputs.npz", a=np.array([object()], dtype=object))
    (out / "outputs.json").write_text(json.dumps({"parts": {"p": [{"status": "ok", "value": {"kind": "array", "key": "a"}}]}}))
    assert read_outputs(tmp_path) == {}       # an object array would need pickle: refused, so no answer


def test_visible_data_ships_no_hidden_part_and_round_trips_exactly(toy):
    data = json.loads(json.dumps(visible_data(toy)))
    ids = [p["meta"]["id"] for p in data["parts"]]
    assert "ex00-dw-hidden" not in ids and data["hidden_parts"] == ["ex00-dw-hidden"]
    fresh = draw_cases(toy, toy.visible_seed, [toy.part("ex00-dw")])["ex00-dw"][0]
    shipped = decode_case(data["parts"][ids.index("ex00-dw")]["cases"][0])
    assert np.array_equal(shipped.expected, fresh.expected) and np.array_equal(shipped.inputs["x"], fresh.inputs["x"])


def test_spec_errors_name_the_fix(toy, tmp_path):
    bad = tmp_path / "bad.judge.py"
    bad.write_text("X = 1\n")
    with pytest.raises(SpecError, match="must define EXERCISE"):
        load_spec(bad)
    check_notebook(toy)   # the toy's graded cells and points match its parts
