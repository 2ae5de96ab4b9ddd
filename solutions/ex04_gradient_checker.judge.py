"""Judge spec of exercise 4 (format: docs/exercise_format.md)."""
import numpy as np

from bplearn.grading.spec import Exercise, Mistake, Mutant, Part, call, probe, solution

EPS = 1e-5


def numerical_gradient(ns, x, w):
    """The learner's checker on the judge's function f(z) = sum(exp(w z) sin z), at x."""
    import numpy as np
    return ns["numerical_gradient"](lambda z: float(np.sum(np.exp(w * z) * np.sin(z))), x, 1e-5)


def x_after_numerical_gradient(ns, x, w):
    """What x holds after the learner's checker has run on it (it must be unchanged)."""
    import numpy as np
    ns["numerical_gradient"](lambda z: float(np.sum(np.exp(w * z) * np.sin(z))), x, 1e-5)
    return x


def worst_entry(ns, analytic, numeric):
    """The index the learner's worst_entry reports, as an array of ints (None passed through)."""
    import numpy as np
    result = ns["worst_entry"](analytic, numeric)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return result
    index = result[1]
    return np.asarray(index, dtype=float) if np.ndim(index) == 1 or isinstance(index, (tuple, list)) else index


def buggy_gradient(ns):
    """The learner's answer as a one-hot vector over ("dx", "dW", "db")."""
    import numpy as np
    answer = ns["buggy_gradient"]()
    if not isinstance(answer, str):
        return answer
    return np.array([float(answer.strip() == name) for name in ("dx", "dW", "db")])


# --- inputs and references -----------------------------------------------------------------------
def _point(rng):
    return {"x": rng.uniform(-1, 1, size=(2, 3, 2)), "w": float(rng.uniform(1.0, 2.0))}


def _exact_gradient(x, w):
    return np.exp(w * x) * (w * np.sin(x) + np.cos(x))


def _same_x(x, w):
    return x


def _forward_difference(x, w):
    f = lambda z: np.exp(w * z) * np.sin(z)
    return (f(x + EPS) - f(x)) / EPS


def _divided_by_eps(x, w):
    return 2 * _exact_gradient(x, w)


def _gradient_pair(rng):
    shape = (int(rng.integers(2, 5)), int(rng.integers(2, 5)))
    analytic = rng.normal(size=shape)
    numeric = analytic * (1 + rng.normal(scale=1e-3, size=shape))
    numeric.flat[int(rng.integers(analytic.size))] *= 1.5        # one clearly wrong entry
    analytic.flat[0] = numeric.flat[0] = 0.0                      # both zero: 0/0 without the floor
    numeric.flat[1] = 0.0                                         # a zero numeric entry
    return {"analytic": analytic, "numeric": numeric}


def _errors(analytic, numeric):
    return np.abs(analytic - numeric) / np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), 1e-8)


def _worst_index(analytic, numeric):
    return np.array(np.unravel_index(int(np.argmax(_errors(analytic, numeric))), analytic.shape), dtype=float)


def _index_without_floor(analytic, numeric):
    with np.errstate(invalid="ignore", divide="ignore"):
        errors = np.abs(analytic - numeric) / np.maximum(np.abs(analytic), np.abs(numeric))
    return np.array(np.unravel_index(int(np.argmax(errors)), analytic.shape), dtype=float)


def _error_over_numeric_only(analytic, numeric):
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.max(np.abs(analytic - numeric) / np.abs(numeric))), None


def _error_signed(analytic, numeric):
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), 1e-8)
    return float(np.max((analytic - numeric) / scale)), None


def _layer_case(rng):
    N, D, H = (int(v) for v in rng.integers(2, 6, size=3))
    return {"x": rng.normal(size=(N, D)), "W": rng.normal(size=(H, D)), "b": rng.normal(size=H),
            "dout": rng.normal(size=(N, H))}


def _dx_without_tanh_slope(x, W, b, dout):
    return dout @ W, None, None


def _dx_with_wrong_tanh_slope(x, W, b, dout):
    y = np.tanh(x @ W.T + b)
    return (dout * (1 - y)) @ W, None, None


EXERCISE = Exercise(
    notebook="ex04_gradient_checker",
    lesson="04",
    visible_seed=404,
    parts=[
        Part("ex04-numgrad", "numerical_gradient's result", 3, probe(numerical_gradient), _point,
             reference=_exact_gradient, rtol=1e-6, atol=1e-8, like="x",
             mistakes=[Mistake("a one-sided (forward) difference", _forward_difference,
                               "nudge both ways and divide by 2*eps: the central difference is far more accurate."),
                       Mistake("divided by eps instead of 2*eps", _divided_by_eps,
                               "the two nudged points are 2*eps apart.")]),
        Part("ex04-restores-x", "x after numerical_gradient returns", 1, probe(x_after_numerical_gradient), _point,
             reference=_same_x, rtol=0, atol=1e-12,
             hint="put every entry back to its original value before moving to the next one."),
        Part("ex04-worst-error", "the largest relative error", 1, call("worst_entry"), _gradient_pair,
             reference=solution("worst_entry"), output=0,
             mistakes=[Mistake("divided by |numeric| only", _error_over_numeric_only,
                               "divide by max(|a|, |n|, 1e-8): a zero numeric entry must not blow up."),
                       Mistake("signed difference", _error_signed, "take the absolute value of a - n.")]),
        Part("ex04-worst-index", "the index of the worst entry", 1, probe(worst_entry), _gradient_pair,
             reference=_worst_index,
             mistakes=[Mistake("the 0/0 entry reported as the worst", _index_without_floor,
                               "where both gradients are 0 the error is 0/0 = NaN, and np.argmax picks a NaN: "
                               "the floor 1e-8 in the denominator prevents it.")],
             hint="np.argmax gives a flat index; np.unravel_index(flat, shape) turns it into one int per dimension."),
        Part("ex04-which-bug", "buggy_gradient() (shown one-hot over dx, dW, db)", 1, probe(buggy_gradient),
             lambda rng: {}, reference=lambda: np.array([1.0, 0.0, 0.0]), cases=1,
             hint="compare each of the three with your numerical gradient; only one disagrees."),
        Part("ex04-fixed-dx", "dx of the corrected dense_tanh_backward", 2, call("dense_tanh_backward"), _layer_case,
             reference=solution("dense_tanh_backward"), output=0, like="x, (N, D)",
             mistakes=[Mistake("the bug is still there", _dx_without_tanh_slope,
                               "dx must pass through tanh' too: use dz = dout * (1 - y**2), not dout."),
                       Mistake("tanh' written as 1 - y", _dx_with_wrong_tanh_slope,
                               "tanh'(z) = 1 - tanh(z)**2 = 1 - y**2.")]),
        Part("ex04-fixed-dw", "dW of the corrected dense_tanh_backward", 1, call("dense_tanh_backward"), _layer_case,
             reference=solution("dense_tanh_backward"), output=1, like="W, (H, D)"),
    ],
    mutants=[
        Mutant("forward difference", [("        x[idx] = kept - eps\n        down = f(x)\n", "        down = f(x)\n"),
                                      ("grad[idx] = (up - down) / (2 * eps)", "grad[idx] = (up - f(x)) / eps")],
               loses=["ex04-numgrad"]),
        Mutant("never restores x", [("        x[idx] = kept                       # put the entry back before the next one\n", "")],
               loses=["ex04-restores-x"], says={"ex04-restores-x": "put every entry back"}),
        Mutant("divides by eps", [("(up - down) / (2 * eps)", "(up - down) / eps")],
               loses=["ex04-numgrad"], says={"ex04-numgrad": "divided by eps instead of 2*eps"}),
        Mutant("no floor", [("scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), 1e-8)",
                             "scale = np.maximum(np.abs(analytic), np.abs(numeric))")],
               loses=["ex04-worst-error", "ex04-worst-index"],
               says={"ex04-worst-error": "NaN", "ex04-worst-index": "0/0 entry"}),
        Mutant("flat index", [("return float(errors.flat[flat]), tuple(int(i) for i in np.unravel_index(flat, errors.shape))",
                               "return float(errors.flat[flat]), flat")],
               loses=["ex04-worst-index"], says={"ex04-worst-index": "shape"}),
        Mutant("blames db", [('    return "dx"\n', '    return "db"\n')], loses=["ex04-which-bug"]),
        Mutant("keeps the bug", [("return dz @ W, dz.T @ x, dz.sum(axis=0)", "return dout @ W, dz.T @ x, dz.sum(axis=0)")],
               loses=["ex04-fixed-dx"], says={"ex04-fixed-dx": "the bug is still there"}),
    ],
)
