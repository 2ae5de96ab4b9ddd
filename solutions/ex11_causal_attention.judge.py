"""Judge spec of exercise 11 (format: docs/exercise_format.md)."""
import numpy as np

from bplearn.grading.spec import Exercise, Mistake, Mutant, Part, call, probe


def causal_attention(ns, Q, K, V):
    """The learner's causal_attention, run with a correct logsumexp_rows (restored afterwards)."""
    import numpy as np

    def logsumexp_rows(s):
        top = s.max(axis=-1)
        return top + np.log(np.exp(s - top[..., None]).sum(axis=-1))

    theirs, ns["logsumexp_rows"] = ns.get("logsumexp_rows"), logsumexp_rows
    try:
        return ns["causal_attention"](Q, K, V)
    finally:
        ns["logsumexp_rows"] = theirs


def causal_attention_backward(ns, dout, Q, K, V):
    """The learner's causal_attention_backward, run with a correct logsumexp_rows (restored afterwards)."""
    import numpy as np

    def logsumexp_rows(s):
        top = s.max(axis=-1)
        return top + np.log(np.exp(s - top[..., None]).sum(axis=-1))

    theirs, ns["logsumexp_rows"] = ns.get("logsumexp_rows"), logsumexp_rows
    try:
        return ns["causal_attention_backward"](dout, Q, K, V)
    finally:
        ns["logsumexp_rows"] = theirs


# --- inputs -----------------------------------------------------------------------------------------
def _scores(rng):
    s = 3 * rng.normal(size=(2, int(rng.integers(3, 6)), int(rng.integers(3, 6))))
    s[0, 0] += 1000.0                              # exp overflows without a shift
    s[1, -1] -= 2000.0                             # far below the batch's maximum
    return {"s": s}


def _qkv(rng):
    N, T, d = int(rng.integers(1, 3)), int(rng.integers(3, 6)), int(rng.integers(2, 5))
    return {name: 1.5 * rng.normal(size=(N, T, d)) for name in ("Q", "K", "V")}


def _qkv_dout(rng):
    case = _qkv(rng)
    case["dout"] = rng.normal(size=case["Q"].shape)
    return case


# --- references and typical wrong answers (written here, independently of the notebook) --------------
def _lse(s, shift):
    with np.errstate(over="ignore", divide="ignore"):
        return shift + np.log(np.exp(s - shift[..., None]).sum(axis=-1))


def _lse_right(s):
    return _lse(s, s.max(axis=-1))


def _lse_batch_max(s):
    return _lse(s, np.full(s.shape[:-1], s.max()))


def _lse_shift_not_added_back(s):
    return _lse(s, s.max(axis=-1)) - s.max(axis=-1)


def _softmax_right(s):
    return np.exp(s - _lse_right(s)[..., None])


def _weights(Q, K, mask="causal", scale=True):
    T, d = Q.shape[1], Q.shape[2]
    s = Q @ K.transpose(0, 2, 1) / (np.sqrt(d) if scale else 1.0)
    if mask == "causal":
        s = np.where(np.triu(np.ones((T, T), dtype=bool), k=1), -np.inf, s)
    elif mask == "transposed":
        s = np.where(np.tril(np.ones((T, T), dtype=bool), k=-1), -np.inf, s)
    return _softmax_right(s)


def _forward_right(Q, K, V):
    return _weights(Q, K) @ V


def _forward_unmasked(Q, K, V):
    return _weights(Q, K, mask=None) @ V


def _forward_mask_after_softmax(Q, K, V):
    T = Q.shape[1]
    return np.where(np.triu(np.ones((T, T), dtype=bool), k=1), 0.0, _weights(Q, K, mask=None)) @ V


def _forward_no_scale(Q, K, V):
    return _weights(Q, K, scale=False) @ V


def _forward_mask_transposed(Q, K, V):
    return _weights(Q, K, mask="transposed") @ V


def _backward(dout, Q, K, V, *, mask="causal", jacobian=True, scale_back=True):
    d = Q.shape[2]
    P = _weights(Q, K, mask=mask)
    dV = P.transpose(0, 2, 1) @ dout
    dP = dout @ V.transpose(0, 2, 1)
    dS = P * (dP - (P * dP).sum(axis=-1, keepdims=True)) if jacobian else P * (1 - P) * dP
    c = 1 / np.sqrt(d) if scale_back else 1.0
    return dS @ K * c, dS.transpose(0, 2, 1) @ Q * c, dV


def _backward_right(dout, Q, K, V):
    return _backward(dout, Q, K, V)


def _backward_elementwise(dout, Q, K, V):
    return _backward(dout, Q, K, V, jacobian=False)


def _backward_no_scale(dout, Q, K, V):
    return _backward(dout, Q, K, V, scale_back=False)


def _backward_unmasked(dout, Q, K, V):
    return _backward(dout, Q, K, V, mask=None)


ELEMENTWISE = Mistake("softmax backward taken element-wise", _backward_elementwise,
                      "each weight depends on every score of its row: dS = P * (dP - sum(P * dP, over the row)).")
NO_SCALE = Mistake("the 1/sqrt(d) left out of the backward pass", _backward_no_scale,
                   "S = Q K^T / sqrt(d), so dQ and dK carry the same 1/sqrt(d).")
UNMASKED = Mistake("the weights recomputed without the mask", _backward_unmasked,
                   "recompute P exactly as in the forward pass, mask included.")


def _backward_part(pid, output, name, mistakes):
    return Part(pid, name, 1 if output else 2, probe(causal_attention_backward), _qkv_dout, reference=_backward_right,
                output=output, like=f"{name[1]}, (N, T, d)", mistakes=mistakes)


EXERCISE = Exercise(
    notebook="ex11_causal_attention",
    lesson="11",
    visible_seed=1111,
    parts=[
        Part("ex11-logsumexp", "logsumexp_rows", 2, call("logsumexp_rows"), _scores, reference=_lse_right,
             like="s without its last axis",
             mistakes=[Mistake("shifted by the whole batch's maximum", _lse_batch_max,
                               "shift each row by its OWN maximum, s.max(axis=-1)."),
                       Mistake("the shift not added back", _lse_shift_not_added_back,
                               "log(sum(exp(s - m))) is lse(s) - m: add m back.")],
             hint="shift each row by its own maximum m, and add m back after the log."),
        Part("ex11-forward", "causal_attention's output", 2, probe(causal_attention), _qkv, reference=_forward_right,
             like="Q, (N, T, d)",
             mistakes=[Mistake("no mask", _forward_unmasked, "set the scores with j > i to -inf before the softmax."),
                       Mistake("masked after the softmax", _forward_mask_after_softmax,
                               "zeroing weights after the softmax leaves rows that no longer sum to 1: mask the scores."),
                       Mistake("no 1/sqrt(d)", _forward_no_scale, "divide the scores by sqrt(d)."),
                       Mistake("the mask hides the past instead of the future", _forward_mask_transposed,
                               "position i may see j <= i: mask the entries ABOVE the diagonal, np.triu(..., k=1).")]),
        _backward_part("ex11-dq", 0, "dQ", [ELEMENTWISE, NO_SCALE, UNMASKED]),
        _backward_part("ex11-dk", 1, "dK", [ELEMENTWISE, NO_SCALE, UNMASKED]),
        _backward_part("ex11-dv", 2, "dV", [UNMASKED]),
    ],
    mutants=[
        Mutant("no shift", [("return top + np.log(np.exp(s - top[..., None]).sum(axis=-1))", "return np.log(np.exp(s).sum(axis=-1))")],
               loses=["ex11-logsumexp"], says={"ex11-logsumexp": "inf"}),
        Mutant("batch maximum", [("top = s.max(axis=-1)                                   # each row's own maximum: (...)",
                                  "top = np.full(s.shape[:-1], s.max())")],
               loses=["ex11-logsumexp"], says={"ex11-logsumexp": "inf"}),
        Mutant("shift not added back", [("return top + np.log(", "return np.log(")],
               loses=["ex11-logsumexp"], says={"ex11-logsumexp": "the shift not added back"}),
        Mutant("mask after softmax", [("    scores = np.where(future, -np.inf, scores)\n    P = np.exp(scores - logsumexp_rows(scores)[..., None])    # softmax, row by row\n",
                                       "    P = np.where(future, 0.0, np.exp(scores - logsumexp_rows(scores)[..., None]))\n")],
               loses=["ex11-forward"], says={"ex11-forward": "masked after the softmax"}),
        Mutant("forward without scale", [("scores = Q @ K.transpose(0, 2, 1) / np.sqrt(d)", "scores = Q @ K.transpose(0, 2, 1)")],
               loses=["ex11-forward"], says={"ex11-forward": "no 1/sqrt(d)"}),
        Mutant("element-wise softmax backward", [("dS = P * (dP - (P * dP).sum(axis=-1, keepdims=True))", "dS = P * (1 - P) * dP")],
               loses=["ex11-dq", "ex11-dk"], says={"ex11-dq": "element-wise", "ex11-dk": "element-wise"}),
        Mutant("backward without scale", [("dQ = dS @ K / np.sqrt(d)", "dQ = dS @ K"),
                                          ("dK = dS.transpose(0, 2, 1) @ Q / np.sqrt(d)", "dK = dS.transpose(0, 2, 1) @ Q")],
               loses=["ex11-dq", "ex11-dk"], says={"ex11-dk": "1/sqrt(d)"}),
    ],
)
