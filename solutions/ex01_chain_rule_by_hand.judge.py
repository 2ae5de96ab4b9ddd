"""Judge spec of exercise 1 (format: docs/exercise_format.md)."""
import numpy as np

from bplearn.grading.spec import Exercise, Mistake, Mutant, Part, call, probe, solution


def chain_values(ns):
    """The four hand-derived numbers as one array (a tuple is what the learner returns)."""
    import numpy as np
    answer = ns["chain_values"]()
    if isinstance(answer, (tuple, list)) and all(isinstance(v, (int, float)) for v in answer):
        return np.array(answer, dtype=float)
    return answer


def _no_inputs(rng):
    return {}


def _hand_values():
    """The reference, from the links' derivatives at x = 1 (u = 3x - 1, v = u**2, f = ln(1 + v))."""
    x = 1.0
    u = 3 * x - 1
    v = u ** 2
    du_dx, dv_du, df_dv = 3.0, 2 * u, 1 / (1 + v)
    return np.array([du_dx, dv_du, df_dv, df_dv * dv_du * du_dx])


def _xy(rng):
    shape = (int(rng.integers(2, 5)), int(rng.integers(1, 4)))
    return {"x": rng.normal(size=shape), "y": rng.normal(size=shape)}


def _x(rng):
    return {"x": rng.normal(scale=1.5, size=(int(rng.integers(3, 7)),))}


# --- typical wrong answers, written as code ----------------------------------------------------
def _values_without_outer_link():          # df/dx = df/dv * dv/du, the 3 of du/dx forgotten
    return np.array([3.0, 4.0, 0.2, 0.8])


def _values_derivative_of_log_as_1_over_v():  # d ln(1+v)/dv taken as 1/v
    return np.array([3.0, 4.0, 0.25, 3.0])


def _partials_without_product_rule(x, y):
    e, c = np.exp(x), np.cos(x * y)
    return e * c * y, e * c * x


def _partials_without_inner_derivative(x, y):
    e, s, c = np.exp(x), np.sin(x * y), np.cos(x * y)
    return e * s + e * c, e * c


def _dg_without_tanh_slope(x):
    t = np.tanh(x)
    return t / np.sqrt(1 + t ** 2)


def _dg_without_half(x):
    t = np.tanh(x)
    return 2 * t * (1 - t ** 2) / np.sqrt(1 + t ** 2)


EXERCISE = Exercise(
    notebook="ex01_chain_rule_by_hand",
    lesson="01",
    visible_seed=101,
    parts=[
        Part("ex01-values", "chain_values()", 2, probe(chain_values),
             _no_inputs, reference=_hand_values, cases=1,
             mistakes=[Mistake("the first link left out", lambda: _values_without_outer_link(),
                               "df/dx is the product of ALL three local derivatives, du/dx = 3 included."),
                       Mistake("the derivative of ln(1 + v) taken as 1/v", lambda: _values_derivative_of_log_as_1_over_v(),
                               "d/dv ln(1 + v) = 1 / (1 + v): the inner 1 + v is what the log sees.")],
             hint="Evaluate every local derivative at the point the forward pass went through: u = 2, v = 4."),
        Part("ex01-partials-x", "df_dx", 2, call("partials"), _xy, reference=solution("partials"), output=0,
             mistakes=[Mistake("product rule missing", _partials_without_product_rule,
                               "x appears in exp(x) AND in sin(x*y): add both contributions."),
                       Mistake("inner derivative missing", _partials_without_inner_derivative,
                               "d/dx sin(x*y) = cos(x*y) * y: the chain rule brings the inner derivative y.")]),
        Part("ex01-partials-y", "df_dy", 1, call("partials"), _xy, reference=solution("partials"), output=1,
             mistakes=[Mistake("inner derivative missing", _partials_without_inner_derivative,
                               "d/dy sin(x*y) = cos(x*y) * x: the chain rule brings the inner derivative x.")]),
        Part("ex01-dg-dx", "dg_dx", 2, call("dg_dx"), _x, reference=solution("dg_dx"),
             mistakes=[Mistake("tanh' missing", _dg_without_tanh_slope,
                               "the innermost link is tanh, whose derivative is 1 - tanh(x)**2."),
                       Mistake("factor 1/2 of the square root missing", _dg_without_half,
                               "d/dv sqrt(v) = 1 / (2 sqrt(v)).")]),
    ],
    mutants=[
        Mutant("forgets du/dx", [("return 3.0, 4.0, 1 / 5, 12 / 5", "return 3.0, 4.0, 1 / 5, 4 / 5")],
               loses=["ex01-values"], says={"ex01-values": "first link left out"}),
        Mutant("no product rule", [("df_dx = grow * wave + grow * slope * y", "df_dx = grow * slope * y")],
               loses=["ex01-partials-x"], says={"ex01-partials-x": "product rule missing"}),
        Mutant("no inner derivative", [("df_dx = grow * wave + grow * slope * y", "df_dx = grow * wave + grow * slope"),
                                       ("df_dy = grow * slope * x", "df_dy = grow * slope")],
               loses=["ex01-partials-x", "ex01-partials-y"],
               says={"ex01-partials-x": "inner derivative missing", "ex01-partials-y": "inner derivative missing"}),
        Mutant("tanh derivative forgotten", [("* (2 * t) * (1 - t ** 2)", "* (2 * t)")],
               loses=["ex01-dg-dx"], says={"ex01-dg-dx": "tanh' missing"}),
        Mutant("forgets to return", [("    return df_dx, df_dy\n", "")],
               loses=["ex01-partials-x", "ex01-partials-y"], says={"ex01-partials-x": "returned None"}),
    ],
)
