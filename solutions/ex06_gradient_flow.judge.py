"""Judge spec of exercise 6 (format: docs/exercise_format.md)."""
import numpy as np

from bplearn.grading.spec import Exercise, Mistake, Mutant, Part, probe

VERDICTS = ("vanishing", "exploding", "healthy")


def dead_fraction(ns, z0, z1, z2):
    """The learner's dead_fraction on a list of three layers' pre-activations."""
    return ns["dead_fraction"]([z0, z1, z2])


def diagnose_norms(ns, norms):
    """The learner's verdict for every row of norms, one-hot over (vanishing, exploding, healthy)."""
    import numpy as np
    rows = []
    for row in norms:
        verdict = ns["diagnose_norms"](list(row))
        if not isinstance(verdict, str):
            return verdict
        rows.append([float(verdict.strip().lower() == v) for v in ("vanishing", "exploding", "healthy")])
    return np.array(rows)


def lsuv(ns, x, W0, W1, W2):
    """The factor lsuv multiplied each layer's weights by, one number per layer."""
    import numpy as np
    originals = [W0, W1, W2]
    result = ns["lsuv"]([W.copy() for W in originals], x)
    if not isinstance(result, (list, tuple)) or len(result) != 3:
        return result
    return np.array([float(np.mean(np.asarray(new, dtype=float) / old)) for new, old in zip(result, originals)])


def lsuv_inputs_after(ns, x, W0, W1, W2):
    """The three given weight matrices, flattened, after lsuv has returned (they must not change)."""
    import numpy as np
    originals = [W0, W1, W2]
    ns["lsuv"](originals, x)
    return np.concatenate([W.ravel() for W in originals])


# --- inputs --------------------------------------------------------------------------------------
def _pre_acts(rng):
    N = int(rng.integers(4, 9))
    layers = {}
    for i in range(3):
        z = rng.normal(size=(N, int(rng.integers(4, 9))))
        z[:, 0] = -np.abs(z[:, 0])              # a dead unit
        z[:, 1] = 0.0                           # exactly zero for every example: dead too (z <= 0)
        z[:-1, 2] = -1.0                        # negative for all but one example: alive
        z[-1, 2] = 0.5
        layers[f"z{i}"] = z
    return layers


def _norm_rows(rng):
    L = int(rng.integers(4, 8))
    last = rng.uniform(0.5, 2.0, size=3)
    rows = np.tile(last[:, None], (1, L)) * rng.uniform(0.5, 2, size=(3, L))
    rows[0, 0] = rows[0, -1] * 10 ** rng.uniform(-5, -2.2)     # vanishing
    rows[1, 0] = rows[1, -1] * 10 ** rng.uniform(2.2, 5)       # exploding
    rows[2, 0] = rows[2, -1] * 10 ** rng.uniform(-1.5, 1.5)    # healthy
    return {"norms": rows[rng.permutation(3)]}


def _network(rng):
    D, H1, H2, H3 = (int(v) for v in rng.integers(3, 9, size=4))
    scale = rng.uniform(0.2, 3.0)
    return {"x": rng.normal(size=(int(rng.integers(16, 40)), D)), "W0": scale * rng.normal(size=(H1, D)),
            "W1": scale * rng.normal(size=(H2, H1)), "W2": scale * rng.normal(size=(H3, H2))}


# --- references and typical wrong answers ----------------------------------------------------------
def _dead(z0, z1, z2, rule):
    return np.array([rule(z) for z in (z0, z1, z2)])


def _dead_right(z0, z1, z2):
    return _dead(z0, z1, z2, lambda z: np.mean(np.all(z <= 0, axis=0)))


def _dead_entries(z0, z1, z2):
    return _dead(z0, z1, z2, lambda z: np.mean(z <= 0))


def _dead_any(z0, z1, z2):
    return _dead(z0, z1, z2, lambda z: np.mean(np.any(z <= 0, axis=0)))


def _dead_strict(z0, z1, z2):
    return _dead(z0, z1, z2, lambda z: np.mean(np.all(z < 0, axis=0)))


def _verdicts(norms, ratio):
    rows = []
    for row in norms:
        r = ratio(row)
        verdict = "vanishing" if r < 1e-2 else "exploding" if r > 1e2 else "healthy"
        rows.append([float(verdict == v) for v in VERDICTS])
    return np.array(rows)


def _verdicts_right(norms):
    return _verdicts(norms, lambda row: row[0] / row[-1])


def _verdicts_inverted(norms):
    return _verdicts(norms, lambda row: row[-1] / row[0])


def _scales(x, W0, W1, W2, sequential=True, measure=lambda z: z.std()):
    factors, h, h_orig = [], x, x
    for W in (W0, W1, W2):
        z = (h if sequential else h_orig) @ W.T
        factors.append(1 / measure(z))
        h = np.tanh(h @ (W * factors[-1]).T)
        h_orig = np.tanh(h_orig @ W.T)
    return np.array(factors)


def _scales_right(x, W0, W1, W2):
    return _scales(x, W0, W1, W2)


def _scales_from_original_net(x, W0, W1, W2):
    return _scales(x, W0, W1, W2, sequential=False)


def _scales_by_variance(x, W0, W1, W2):
    return _scales(x, W0, W1, W2, measure=lambda z: z.var())


def _unchanged(x, W0, W1, W2):
    return np.concatenate([W0.ravel(), W1.ravel(), W2.ravel()])


EXERCISE = Exercise(
    notebook="ex06_gradient_flow",
    lesson="06",
    visible_seed=606,
    parts=[
        Part("ex06-dead", "the fraction of dead units per layer", 2, probe(dead_fraction), _pre_acts,
             reference=_dead_right, like="(L,), one number per layer",
             mistakes=[Mistake("entries counted instead of units", _dead_entries,
                               "a unit is dead only if it is <= 0 for EVERY example: np.all(z <= 0, axis=0), then the mean over units."),
                       Mistake("any instead of all", _dead_any,
                               "a unit that fires for even one example still learns: use np.all over the batch axis."),
                       Mistake("strict < 0", _dead_strict,
                               "a pre-activation of exactly 0 gives ReLU output 0 and no gradient: count z <= 0.")]),
        Part("ex06-diagnose", "the verdict table (a row per list of norms, one-hot over vanishing, exploding, healthy)",
             1, probe(diagnose_norms), _norm_rows, reference=_verdicts_right,
             mistakes=[Mistake("the ratio upside down", _verdicts_inverted,
                               "compare the FIRST layer with the last: first / last < 1/100 means the gradient vanished on its way back.")]),
        Part("ex06-lsuv", "the factor each layer's weights were multiplied by", 3, probe(lsuv), _network,
             reference=_scales_right, like="(3,), one number per layer",
             mistakes=[Mistake("every layer measured in the original network", _scales_from_original_net,
                               "rescale layer l before you measure layer l+1: each layer must see the layers before it as they will be."),
                       Mistake("divided by the variance", _scales_by_variance,
                               "divide by the standard deviation z.std(), not the variance.")]),
        Part("ex06-lsuv-copies", "the weights you were given, after lsuv returns", 1, probe(lsuv_inputs_after),
             _network, reference=_unchanged, rtol=0, atol=0,
             hint="build new arrays (W / s) instead of dividing in place (W /= s)."),
    ],
    mutants=[
        Mutant("entries", [("np.mean(np.all(z <= 0, axis=0))", "np.mean(z <= 0)")],
               loses=["ex06-dead"], says={"ex06-dead": "entries counted instead of units"}),
        Mutant("any", [("np.all(z <= 0, axis=0)", "np.any(z <= 0, axis=0)")],
               loses=["ex06-dead"], says={"ex06-dead": "any instead of all"}),
        Mutant("inverted ratio", [("ratio = norms[0] / norms[-1]", "ratio = norms[-1] / norms[0]")],
               loses=["ex06-diagnose"], says={"ex06-diagnose": "upside down"}),
        Mutant("not sequential", [("        z = h @ W.T                              # (N, out), from the layers already rescaled\n",
                                   "        z = h @ W.T\n"),
                                  ("        h = np.tanh(h @ W.T)                     # the next layer sees the rescaled output\n",
                                   "        h = np.tanh(z)\n")],
               loses=["ex06-lsuv"], says={"ex06-lsuv": "original network"}),
        Mutant("variance", [("W = W / z.std()", "W = W / z.var()")],
               loses=["ex06-lsuv"], says={"ex06-lsuv": "variance"}),
        Mutant("in place", [("W = W / z.std()", "W /= z.std()")],
               loses=["ex06-lsuv-copies"]),
    ],
)
