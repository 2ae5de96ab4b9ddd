"""Predict, then reveal: the learner commits to a guess before the notebook shows the truth.

    # predict cell (tag `predict`)
    my_guess = None      # "up" or "down"?

    # reveal cell
    reveal("the loss after one step", my_guess, actual="down", choices=("up", "down"),
           why="a small step against the gradient always lowers the loss to first order.")

For numbers, pass ``tolerance`` (relative): a guess within it counts as right.
``reveal`` prints whether the guess was right and why, and returns True/False (None
when no guess was made), so the learner sees the answer either way.
"""
from __future__ import annotations

import numbers


def reveal(question: str, guess, actual, *, why: str, choices=None, tolerance: float = 0.1):
    """Print the true answer to ``question``, whether ``guess`` matched it, and ``why``.

    guess: the learner's prediction (None or ... if they made none); actual: the truth.
    choices: the allowed answers, for a multiple-choice prediction (compared as text,
    ignoring case and surrounding spaces). tolerance: relative tolerance for numbers.
    Returns True (right), False (wrong) or None (no prediction).
    """
    if guess is None or guess is Ellipsis:
        print(f"You did not commit to a prediction for {question} (it is still {guess!r}). "
              f"The answer is {_show(actual)}.\nWhy: {why}\n(Next time write your guess first: "
              f"committing to one is what makes the answer stick.)")
        return None
    if choices is not None:
        allowed = [_norm(c) for c in choices]
        if _norm(guess) not in allowed:
            print(f"Your prediction {guess!r} is not one of the choices {list(choices)}; "
                  f"the answer is {_show(actual)}.\nWhy: {why}")
            return False
        right = _norm(guess) == _norm(actual)
    elif isinstance(guess, numbers.Real) and isinstance(actual, numbers.Real):
        right = abs(guess - actual) <= tolerance * max(abs(actual), 1e-12)
    else:
        right = guess == actual
    verdict = "✔ Right" if right else "✘ Not quite"
    print(f"{verdict}: you predicted {_show(guess)} for {question}; the answer is {_show(actual)}.\nWhy: {why}")
    return right


def _norm(text) -> str:
    return str(text).strip().lower()


def _show(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return repr(value) if isinstance(value, str) else str(value)
