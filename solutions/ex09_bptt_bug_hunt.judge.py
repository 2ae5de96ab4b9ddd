"""Judge spec of exercise 9 (format: docs/exercise_format.md)."""
import numpy as np

from bplearn.grading.spec import Exercise, Mistake, Mutant, Part, call, solution

NAMES = ("dW_ih", "dW_hh", "db", "dW_hy", "db_y", "dx", "dh0")


def _sequence_case(rng):
    N, T, D, H, O = (int(v) for v in (rng.integers(2, 4), rng.integers(3, 6), rng.integers(2, 5),
                                      rng.integers(3, 6), rng.integers(1, 4)))
    x, h0 = rng.normal(size=(N, T, D)), rng.normal(size=(N, H))
    W_ih, W_hh, b = 0.6 * rng.normal(size=(H, D)), 0.6 * rng.normal(size=(H, H)), rng.normal(size=H)
    hs, h = np.zeros((N, T, H)), h0
    for t in range(T):
        h = np.tanh(x[:, t] @ W_ih.T + h @ W_hh.T + b)
        hs[:, t] = h
    return {"dys": rng.normal(size=(N, T, O)), "x": x, "h0": h0, "hs": hs, "W_ih": W_ih, "W_hh": W_hh,
            "W_hy": rng.normal(size=(O, H))}


def _long_sequence_case(rng):
    """T = 30: a gradient that is not carried back shows up at every early step."""
    case = _sequence_case(np.random.default_rng(int(rng.integers(2 ** 31))))
    N, _, D = case["x"].shape
    H = case["h0"].shape[1]
    x = rng.normal(size=(N, 30, D))
    hs, h = np.zeros((N, 30, H)), case["h0"]
    b = rng.normal(size=H)
    for t in range(30):
        h = np.tanh(x[:, t] @ case["W_ih"].T + h @ case["W_hh"].T + b)
        hs[:, t] = h
    O = case["W_hy"].shape[0]
    return {**case, "x": x, "hs": hs, "dys": rng.normal(size=(N, 30, O))}


def _bptt(dys, x, h0, hs, W_ih, W_hh, W_hy, *, carry=True, prev_state=True, slope_on_carry=True):
    """BPTT with switches for the typical mistakes; returns the seven gradients."""
    T = x.shape[1]
    dW_ih, dW_hh, db = np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros(W_hh.shape[0])
    dx, dh_next = np.zeros_like(x), np.zeros_like(h0)
    for t in reversed(range(T)):
        h_prev = hs[:, t - 1] if t > 0 else h0
        dh = dys[:, t] @ W_hy + (dh_next if carry else 0)
        dz = dh * (1 - hs[:, t] ** 2)
        dW_ih += dz.T @ x[:, t]
        dW_hh += dz.T @ (h_prev if prev_state else hs[:, t])
        db += dz.sum(axis=0)
        dx[:, t] = dz @ W_ih
        dh_next = (dz if slope_on_carry else dh) @ W_hh
    return dW_ih, dW_hh, db, np.einsum("nto,nth->oh", dys, hs), dys.sum(axis=(0, 1)), dx, dh_next


def _no_carry(**case):
    return _bptt(**case, carry=False)


def _h_t_for_dW_hh(**case):
    return _bptt(**case, prev_state=False)


def _carry_without_tanh_slope(**case):
    return _bptt(**case, slope_on_carry=False)


NO_CARRY = Mistake("the gradient from step t+1 is not added", _no_carry,
                   "h_t feeds both y_t and h_{t+1}: dh = dys[:, t] @ W_hy + dh_next.")
OFF_BY_ONE = Mistake("h_t used where h_{t-1} belongs", _h_t_for_dW_hh,
                     "W_hh multiplies the PREVIOUS state, so dW_hh += dz.T @ h_{t-1} (h0 at t = 0).")
NO_SLOPE = Mistake("the carried gradient skips tanh'", _carry_without_tanh_slope,
                   "dh_next = dz @ W_hh with dz = dh * (1 - h_t**2): the path to h_{t-1} passes through tanh.")


def _part(pid, output, points, like, mistakes):
    return Part(pid, NAMES[output], points, call("rnn_backward"), _sequence_case, reference=solution("rnn_backward"),
                output=output, like=like, batch_size=None, mistakes=mistakes)


EXERCISE = Exercise(
    notebook="ex09_bptt_bug_hunt",
    lesson="09",
    visible_seed=909,
    parts=[
        _part("ex09-dw-ih", 0, 1, "W_ih, (H, D)", [NO_CARRY, NO_SLOPE]),
        _part("ex09-dw-hh", 1, 2, "W_hh, (H, H)", [NO_CARRY, OFF_BY_ONE, NO_SLOPE]),
        _part("ex09-db", 2, 1, "b, (H,)", [NO_CARRY, NO_SLOPE]),
        _part("ex09-dw-hy", 3, 1, "W_hy, (O, H)", []),
        _part("ex09-dx", 5, 2, "x, (N, T, D)", [NO_CARRY, NO_SLOPE]),
        _part("ex09-dh0", 6, 1, "h0, (N, H)", [NO_CARRY, NO_SLOPE]),
        Part("ex09-dx-long", "dx over 30 steps", 1, call("rnn_backward"), _long_sequence_case,
             reference=solution("rnn_backward"), output=5, like="x, (N, T, D)", hidden=True, cases=1,
             mistakes=[NO_CARRY, NO_SLOPE]),
    ],
    mutants=[
        Mutant("the bug itself", [("dh = dys[:, t] @ W_hy + dh_next            # h_t feeds its output AND the next step",
                                   "dh = dys[:, t] @ W_hy")],
               loses=["ex09-dw-ih", "ex09-dw-hh", "ex09-db", "ex09-dx", "ex09-dh0", "ex09-dx-long"],
               says={"ex09-dx": "step t+1 is not added", "ex09-dw-hh": "step t+1 is not added"}),
        Mutant("off by one", [("dW_hh += dz.T @ h_prev", "dW_hh += dz.T @ hs[:, t]")],
               loses=["ex09-dw-hh"], says={"ex09-dw-hh": "h_t used where h_{t-1} belongs"}),
        Mutant("carry skips tanh'", [("        dh_next = dz @ W_hh\n", "        dh_next = dh @ W_hh\n")],
               loses=["ex09-dw-ih", "ex09-dw-hh", "ex09-db", "ex09-dx", "ex09-dh0", "ex09-dx-long"],
               says={"ex09-dh0": "skips tanh'"}),
        Mutant("output layer transposed", [('dW_hy = np.einsum("nto,nth->oh", dys, hs)', 'dW_hy = np.einsum("nto,nth->ho", dys, hs)')],
               loses=["ex09-dw-hy"], says={"ex09-dw-hy": "transpose"}),
    ],
)
