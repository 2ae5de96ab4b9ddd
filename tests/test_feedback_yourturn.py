"""Your-turn tasks: a verdict for every kind of answer, specific hints, help in steps."""
import importlib
import tomllib

import numpy as np
import pytest

from bplearn.feedback import Mistake, Task, is_stub, reveal
from bplearn.feedback import yourturn
from bplearn.feedback.yourturn import CORRECT, ERROR, NOT_DONE, WRONG, TEXTS_DIR, task_from_texts


def _linear_backward(x, w, grad_out):
    return grad_out.T @ x, grad_out @ w          # dW (out, in), dx (N, in)


def _forgot_transpose(x, w, grad_out):
    return x.T @ grad_out, grad_out @ w          # (in, out): transposed dW


def _inputs(rng):
    return {"x": rng.standard_normal((5, 3)), "w": rng.standard_normal((2, 3)),
            "grad_out": rng.standard_normal((5, 2))}


TASK = Task("linear_backward", _linear_backward, _inputs, ("dW", "dx"),
            mistakes=[Mistake("x.T @ grad_out", _forgot_transpose, "dW is shaped like W, (out, in).")],
            nudge="Which shapes must multiply?", hint="dW = grad_out.T @ x", batch_size=lambda i: 5)


def test_the_reference_is_correct_and_check_hands_it_back(capsys):
    assert TASK.verdict(_linear_backward).status == CORRECT
    assert TASK.check(_linear_backward) is _linear_backward
    assert "✔ linear_backward is correct" in capsys.readouterr().out


def test_an_untouched_stub_is_not_done_and_the_reference_is_used(capsys):
    def linear_backward(x, w, grad_out):
        """Return dW, dx."""
        ...

    assert is_stub(linear_backward)
    assert TASK.verdict(linear_backward).status == NOT_DONE
    assert TASK.check(linear_backward) is _linear_backward
    out = capsys.readouterr().out
    assert "not done yet" in out and "uses the reference linear_backward" in out


def test_a_registered_mistake_gets_its_hint_and_the_right_part_is_named():
    verdict = TASK.verdict(_forgot_transpose)
    assert verdict.status == WRONG and verdict.mistakes == ["x.T @ grad_out"]
    assert "dW is wrong (dx is right)" in verdict.message
    assert "looks transposed" in verdict.message and "dW is shaped like W" in verdict.message


def test_a_flipped_sign_and_a_missing_batch_mean_are_recognised_without_a_mistake():
    flipped = TASK.verdict(lambda x, w, grad_out: (-(grad_out.T @ x), grad_out @ w))
    assert "opposite sign" in flipped.problems["dW"]
    summed = TASK.verdict(lambda x, w, grad_out: (5 * grad_out.T @ x, grad_out @ w))
    assert "5 times too large, and 5 is the batch size" in summed.problems["dW"]


def test_a_forgotten_return_and_a_wrong_count_of_values_get_plain_messages():
    def linear_backward(x, w, grad_out):
        dW = grad_out.T @ x  # noqa: F841 - the learner forgot to return

    assert "returned None" in TASK.verdict(linear_backward).message
    assert "should return 2 values (dW, dx)" in TASK.verdict(lambda x, w, grad_out: grad_out.T @ x).message


def test_an_exception_shows_the_learners_line_and_the_input_shapes():
    def linear_backward(x, w, grad_out):
        return grad_out @ x, grad_out @ w     # (5, 2) @ (5, 3): shapes do not fit

    verdict = TASK.verdict(linear_backward)
    assert verdict.status == ERROR and "ValueError" in verdict.message
    assert "return grad_out @ x, grad_out @ w" in verdict.message and "x: (5, 3)" in verdict.message


def test_help_comes_in_steps(capsys):
    TASK.nudge(); TASK.hint(); TASK.answer()
    out = capsys.readouterr().out
    assert "Which shapes must multiply?" in out and "dW = grad_out.T @ x" in out
    assert "return grad_out.T @ x, grad_out @ w" in out


@pytest.mark.parametrize("guess, right", [("down", True), ("Up", False), (None, None)])
def test_reveal_says_whether_a_choice_was_right_and_why(capsys, guess, right):
    assert reveal("the loss", guess, "down", choices=("up", "down"), why="a small step downhill.") is right
    out = capsys.readouterr().out
    assert "a small step downhill." in out and "'down'" in out


def test_reveal_compares_numbers_within_a_relative_tolerance():
    assert reveal("x", 0.95, 1.0, why=".", tolerance=0.1) is True
    assert reveal("x", 0.5, 1.0, why=".", tolerance=0.1) is False


def test_try_yours_returns_the_learners_outputs_or_falls_back_to_the_reference(capsys, rng):
    inputs = _inputs(rng)
    TASK.check(_forgot_transpose)
    assert np.allclose(TASK.try_yours(**inputs)["dW"], inputs["x"].T @ inputs["grad_out"])

    def linear_backward(x, w, grad_out):
        ...

    TASK.check(linear_backward)
    capsys.readouterr()
    assert np.allclose(TASK.try_yours(**inputs)["dW"], inputs["grad_out"].T @ inputs["x"])
    assert "Showing the reference linear_backward: yours is not written yet." in capsys.readouterr().out


# --- the lessons' tasks read their texts from feedback/texts/lessonNN.toml -----------------------

@pytest.mark.parametrize("path", sorted(TEXTS_DIR.glob("lesson*.toml")), ids=lambda p: p.stem)
def test_every_table_in_a_lessons_texts_is_a_task_of_its_module_and_back(path):
    module = importlib.import_module(f"bplearn.feedback.{path.stem}")
    tasks = {name: value for name, value in vars(module).items() if isinstance(value, Task)}
    with path.open("rb") as file:
        assert set(tomllib.load(file)) == set(tasks)
    for name, task in tasks.items():
        assert task.name == name and task.handle == f"{path.stem}.{name}" and task.lesson == module.LESSON


def test_every_lesson_module_has_its_texts():
    assert sorted(p.stem for p in TEXTS_DIR.glob("lesson*.toml")) == [f"lesson{n:02d}" for n in range(13)]


def test_a_table_that_names_a_missing_function_says_which_file_task_and_function():
    namespace = dict(vars(importlib.import_module("bplearn.feedback.lesson00")))
    del namespace["_uphill"]
    with pytest.raises(LookupError) as error:
        task_from_texts(namespace, "gradient_step")
    message = str(error.value)
    assert "lesson00.toml" in message and "[gradient_step]" in message and "'_uphill'" in message
    assert "stepped up the gradient" in message and "has no function named" in message


def test_a_missing_table_or_an_unknown_key_is_named_with_its_file(tmp_path, monkeypatch):
    monkeypatch.setattr(yourturn, "TEXTS_DIR", tmp_path)
    (tmp_path / "lesson99.toml").write_text(
        '[linear_backward]\nreference = "_linear_backward"\ninputs = "_inputs"\noutputs = ["dW", "dx"]\n'
        'nudge = "Which shapes must multiply?"\nhnit = "dW = grad_out.T @ x"\n', encoding="utf-8")
    namespace = {"__name__": "bplearn.feedback.lesson99", "_linear_backward": _linear_backward, "_inputs": _inputs}
    with pytest.raises(LookupError, match=r"lesson99.toml, task \[linear_backward\]: missing keys \['hint'\], "
                                          r"unknown keys \['hnit'\]"):
        task_from_texts(namespace, "linear_backward")
    with pytest.raises(LookupError, match=r"lesson99.toml has no table \[conv_backward\]"):
        task_from_texts(namespace, "conv_backward")


def test_a_mistakes_keywords_are_passed_to_its_function_with_the_inputs(rng):
    lesson09 = importlib.import_module("bplearn.feedback.lesson09")
    inputs = lesson09.bptt_backward.make_inputs(rng)
    got = lesson09.bptt_backward.mistakes[0].compute(**inputs)       # keywords = { carry = false }
    want = lesson09._bptt_variant(**inputs, carry=False)
    assert all(np.array_equal(a, b) for a, b in zip(got, want, strict=True))
