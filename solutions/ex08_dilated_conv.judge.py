"""Judge spec of exercise 8 (format: docs/exercise_format.md)."""
import numpy as np

from bplearn.grading.spec import Exercise, Mistake, Mutant, Part, call, probe, solution


def receptive_field(ns, kernel_sizes, dilations):
    """The learner's receptive_field for every row of (kernel_sizes, dilations)."""
    import numpy as np
    answers = []
    for ks, ds in zip(kernel_sizes, dilations):
        answer = ns["receptive_field"]([int(k) for k in ks], [int(d) for d in ds])
        if isinstance(answer, bool) or not isinstance(answer, (int, float, np.integer, np.floating)):
            return answer
        answers.append(float(answer))
    return np.array(answers)


def _conv_case(rng):
    N, C, F = (int(v) for v in rng.integers(1, 4, size=3))
    K, dilation = int(rng.integers(2, 4)), int(rng.integers(2, 4))
    L = dilation * (K - 1) + int(rng.integers(3, 8))
    L_out = L - dilation * (K - 1)
    return {"dout": rng.normal(size=(N, F, L_out)), "x": rng.normal(size=(N, C, L)),
            "w": rng.normal(size=(F, C, K)), "dilation": dilation}


def _taps(x, w, dilation, L_out):
    for k in range(w.shape[2]):
        yield k, slice(k * dilation, k * dilation + L_out)


def _dx_overwritten(dout, x, w, dilation):
    dx = np.zeros_like(x)
    for k, taps in _taps(x, w, dilation, dout.shape[2]):
        dx[:, :, taps] = np.einsum("nfl,fc->ncl", dout, w[:, :, k])
    return dx, None, None


def _dx_without_dilation(dout, x, w, dilation):
    dx = np.zeros_like(x)
    for k, _ in _taps(x, w, dilation, dout.shape[2]):
        dx[:, :, k:k + dout.shape[2]] += np.einsum("nfl,fc->ncl", dout, w[:, :, k])
    return dx, None, None


def _dx_flipped_kernel(dout, x, w, dilation):
    dx = np.zeros_like(x)
    for k, taps in _taps(x, w, dilation, dout.shape[2]):
        dx[:, :, taps] += np.einsum("nfl,fc->ncl", dout, w[:, :, -1 - k])
    return dx, None, None


def _dw_one_example(dout, x, w, dilation):
    dw = np.zeros_like(w)
    for k, taps in _taps(x, w, dilation, dout.shape[2]):
        dw[:, :, k] = np.einsum("fl,cl->fc", dout[0], x[0, :, taps])
    return None, dw, None


def _stack(rng):
    L = int(rng.integers(2, 5))
    return {"kernel_sizes": rng.integers(2, 6, size=(3, L)), "dilations": 2 ** rng.integers(0, 4, size=(3, L))}


def _field(kernel_sizes, dilations, start=1):
    return np.array([start + sum(int(d) * (int(k) - 1) for k, d in zip(ks, ds))
                     for ks, ds in zip(kernel_sizes, dilations)], dtype=float)


OVERLAP = ("an input position is read by several taps, so its gradient is the SUM of what each tap sends back: "
           "dx[..., taps] += ..., not =.")

EXERCISE = Exercise(
    notebook="ex08_dilated_conv",
    lesson="08",
    visible_seed=808,
    parts=[
        Part("ex08-dx", "dx", 3, call("dilated_conv1d_backward"), _conv_case,
             reference=solution("dilated_conv1d_backward"), output=0, like="x, (N, C, L)",
             mistakes=[Mistake("overlapping windows overwritten", _dx_overwritten, OVERLAP),
                       Mistake("the dilation left out of dx", _dx_without_dilation,
                               "tap k reads x at t + k * dilation, so its gradient goes back to those positions."),
                       Mistake("the kernel flipped", _dx_flipped_kernel,
                               "written this way (tap by tap) nothing needs flipping: tap k sends back through w[:, :, k].")]),
        Part("ex08-dw", "dw", 1, call("dilated_conv1d_backward"), _conv_case,
             reference=solution("dilated_conv1d_backward"), output=1, like="w, (F, C, K)",
             mistakes=[Mistake("only the first example", _dw_one_example, "sum over every example of the batch.")]),
        Part("ex08-receptive", "the receptive field of each stack", 1, probe(receptive_field), _stack,
             reference=_field,
             mistakes=[Mistake("the one position of the output left out", lambda kernel_sizes, dilations:
                               _field(kernel_sizes, dilations, start=0),
                               "start from 1: a single position sees itself, and each layer adds d * (K - 1).")]),
    ],
    mutants=[
        Mutant("overwrites dx", [("dx[:, :, taps] += np.einsum", "dx[:, :, taps] = np.einsum")],
               loses=["ex08-dx"], says={"ex08-dx": "overlapping windows overwritten"}),
        Mutant("no dilation in dx", [("dx[:, :, taps] += np.einsum", "dx[:, :, k:k + L_out] += np.einsum")],
               loses=["ex08-dx"], says={"ex08-dx": "dilation left out"}),
        Mutant("dw of the first example", [('dw[:, :, k] = np.einsum("nfl,ncl->fc", dout, x[:, :, taps])',
                                            'dw[:, :, k] = np.einsum("fl,cl->fc", dout[0], x[0, :, taps])')],
               loses=["ex08-dw"], says={"ex08-dw": "only the first example"}),
        Mutant("receptive field without the 1", [("return 1 + sum(", "return sum(")],
               loses=["ex08-receptive"], says={"ex08-receptive": "start from 1"}),
        Mutant("returns nothing", [("    return dx, dw, dout.sum(axis=(0, 2))\n    ### END SOLUTION", "    ### END SOLUTION")],
               loses=["ex08-dx", "ex08-dw"], says={"ex08-dx": "returned None"}),
    ],
)
