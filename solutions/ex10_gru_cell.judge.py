"""Judge spec of exercise 10 (format: docs/exercise_format.md)."""
import numpy as np

from bplearn.grading.spec import Exercise, Mistake, Mutant, Part, probe

NAMES = ("dx", "dh", "dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh")


def gru_cell_backward(ns, dh_new, x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    """The notebook's forward (a locked cell) makes the cache; the learner's backward uses it."""
    _, cache = ns["gru_cell_forward"](x, h, weight_ih, weight_hh, bias_ih, bias_hh)
    return ns["gru_cell_backward"](dh_new, cache)


def _cell_case(rng):
    N, D, H = (int(v) for v in (rng.integers(2, 5), rng.integers(2, 5), rng.integers(2, 5)))
    return {"dh_new": rng.normal(size=(N, H)), "x": rng.normal(size=(N, D)), "h": rng.normal(size=(N, H)),
            "weight_ih": 0.7 * rng.normal(size=(3 * H, D)), "weight_hh": 0.7 * rng.normal(size=(3 * H, H)),
            "bias_ih": rng.normal(size=3 * H), "bias_hh": rng.normal(size=3 * H)}


def _sigmoid(a):
    return 0.5 * (1 + np.tanh(0.5 * a))


def _gru_backward(dh_new, x, h, weight_ih, weight_hh, bias_ih, bias_hh, *, direct=True, r_on_hidden=True,
                  z_slope=True, z_sign=1.0, order=(0, 1, 2)):
    """GRU cell gradients, written independently of the notebook, with switches for typical mistakes."""
    H = h.shape[1]
    gi, gh = x @ weight_ih.T + bias_ih, h @ weight_hh.T + bias_hh
    r, z = _sigmoid(gi[:, :H] + gh[:, :H]), _sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
    n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
    dn = dh_new * (1 - z)
    dz = z_sign * dh_new * (h - n)
    dn_pre = dn * (1 - n ** 2)
    dr_pre = dn_pre * gh[:, 2 * H:] * r * (1 - r)
    dz_pre = dz * z * (1 - z) if z_slope else dz
    blocks_i = [dr_pre, dz_pre, dn_pre]
    blocks_h = [dr_pre, dz_pre, dn_pre * r if r_on_hidden else dn_pre]
    d_gi = np.concatenate([blocks_i[k] for k in order], axis=1)
    d_gh = np.concatenate([blocks_h[k] for k in order], axis=1)
    dh = d_gh @ weight_hh + (dh_new * z if direct else 0)
    return d_gi @ weight_ih, dh, d_gi.T @ x, d_gh.T @ h, d_gi.sum(axis=0), d_gh.sum(axis=0)


def _right(**case):
    return _gru_backward(**case)


def _no_direct_path(**case):
    return _gru_backward(**case, direct=False)


def _r_forgotten(**case):
    return _gru_backward(**case, r_on_hidden=False)


def _no_z_slope(**case):
    return _gru_backward(**case, z_slope=False)


def _z_sign(**case):
    return _gru_backward(**case, z_sign=-1.0)


def _gates_z_r_n(**case):
    return _gru_backward(**case, order=(1, 0, 2))


DIRECT = Mistake("the direct path h -> h' missing", _no_direct_path,
                 "h' = (1 - z) n + z h, so h also receives dh_new * z straight from h'.")
R_MISSING = Mistake("the reset gate forgotten on the hidden side of n", _r_forgotten,
                    "n = tanh(... + r * (h W_hn^T + b_hn)): the n block of d_gh carries a factor r.")
Z_SLOPE = Mistake("the sigmoid's derivative missing for z", _no_z_slope,
                  "dz_pre = dz * z * (1 - z).")
Z_SIGN = Mistake("dz with the wrong sign", _z_sign, "dh'/dz = h - n (the z h term minus the z n term).")
ORDER = Mistake("the gate blocks in the order z, r, n", _gates_z_r_n,
                "the rows of the weights (and the blocks of d_gi, d_gh) go r, z, n, as in PyTorch's GRUCell.")


def _part(pid, output, points, like, mistakes):
    return Part(pid, NAMES[output], points, probe(gru_cell_backward), _cell_case, reference=_right,
                output=output, like=like, mistakes=mistakes)


EXERCISE = Exercise(
    notebook="ex10_gru_cell",
    lesson="10",
    visible_seed=1010,
    parts=[
        _part("ex10-dx", 0, 1, "x, (N, D)", [R_MISSING, Z_SLOPE, Z_SIGN, ORDER]),
        _part("ex10-dh", 1, 2, "h, (N, H)", [DIRECT, R_MISSING, Z_SLOPE, Z_SIGN, ORDER]),
        _part("ex10-dweight-ih", 2, 2, "weight_ih, (3H, D)", [R_MISSING, Z_SLOPE, Z_SIGN, ORDER]),
        _part("ex10-dweight-hh", 3, 1, "weight_hh, (3H, H)", [R_MISSING, Z_SLOPE, Z_SIGN, ORDER]),
        _part("ex10-dbias-ih", 4, 1, "bias_ih, (3H,)", [R_MISSING, Z_SLOPE, Z_SIGN, ORDER]),
        _part("ex10-dbias-hh", 5, 1, "bias_hh, (3H,)", [R_MISSING, Z_SLOPE, Z_SIGN, ORDER]),
    ],
    mutants=[
        Mutant("no direct path", [("dh = d_gh @ cache[\"weight_hh\"] + dh_new * z", "dh = d_gh @ cache[\"weight_hh\"]")],
               loses=["ex10-dh"], says={"ex10-dh": "direct path"}),
        Mutant("r forgotten", [("d_gh = np.concatenate([dr_pre, dz_pre, dn_pre * r], axis=1)",
                                "d_gh = np.concatenate([dr_pre, dz_pre, dn_pre], axis=1)")],
               loses=["ex10-dh", "ex10-dweight-hh", "ex10-dbias-hh"], says={"ex10-dbias-hh": "reset gate forgotten"}),
        Mutant("no sigmoid slope for z", [("dz_pre = dz * z * (1 - z)", "dz_pre = dz")],
               loses=["ex10-dx", "ex10-dh", "ex10-dweight-ih", "ex10-dweight-hh", "ex10-dbias-ih", "ex10-dbias-hh"],
               says={"ex10-dbias-ih": "sigmoid's derivative missing"}),
        Mutant("z sign", [("dz = dh_new * (h - n)", "dz = dh_new * (n - h)")],
               loses=["ex10-dx", "ex10-dh", "ex10-dweight-ih", "ex10-dweight-hh", "ex10-dbias-ih", "ex10-dbias-hh"],
               says={"ex10-dweight-ih": "wrong sign"}),
        Mutant("gate order z, r, n", [("d_gi = np.concatenate([dr_pre, dz_pre, dn_pre], axis=1)",
                                       "d_gi = np.concatenate([dz_pre, dr_pre, dn_pre], axis=1)"),
                                      ("d_gh = np.concatenate([dr_pre, dz_pre, dn_pre * r], axis=1)",
                                       "d_gh = np.concatenate([dz_pre, dr_pre, dn_pre * r], axis=1)")],
               loses=["ex10-dx", "ex10-dh", "ex10-dweight-ih", "ex10-dweight-hh", "ex10-dbias-ih", "ex10-dbias-hh"],
               says={"ex10-dbias-ih": "order z, r, n"}),
    ],
)
