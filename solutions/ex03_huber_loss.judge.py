"""Judge spec of exercise 3 (format: docs/exercise_format.md)."""
import numpy as np

from bplearn.grading.spec import Exercise, Mistake, Mutant, Part, call, solution


def _huber_case(rng):
    shape = (int(rng.integers(5, 12)),)                       # a batch of N predictions
    target = rng.normal(size=shape)
    pred = target + rng.normal(scale=2.0, size=shape)      # residuals on both sides of delta
    return {"pred": pred, "target": target, "delta": float(rng.uniform(0.5, 1.5))}


def _log_cosh_case(rng):
    case = _huber_case(rng)
    del case["delta"]
    case["pred"].flat[0] = case["target"].flat[0] + 900.0  # cosh(900) overflows float64
    case["pred"].flat[-1] = case["target"].flat[-1] - 750.0
    return case


def _log_cosh_matrix_case(rng):
    target = rng.normal(size=(int(rng.integers(3, 6)), int(rng.integers(3, 6))))
    return {"pred": target + rng.normal(scale=2.0, size=target.shape), "target": target}


def _residual_and_size(pred, target):
    r = pred - target
    return r, np.abs(r)


# --- typical wrong answers -----------------------------------------------------------------------
def _loss_without_offset(pred, target, delta):
    r, a = _residual_and_size(pred, target)
    return float(np.mean(np.where(a <= delta, 0.5 * r ** 2, delta * a)))


def _loss_without_half(pred, target, delta):
    r, a = _residual_and_size(pred, target)
    return float(np.mean(np.where(a <= delta, r ** 2, delta * (a - 0.5 * delta))))


def _grad_of_mse(pred, target, delta):
    return (pred - target) / pred.size


def _grad_l1(pred, target, delta):
    return delta * np.sign(pred - target) / pred.size


def _log_cosh_grad_over_rows(pred, target):
    return np.tanh(pred - target) / len(pred)


def _naive_log_cosh(pred, target):
    with np.errstate(over="ignore"):
        return float(np.mean(np.log(np.cosh(pred - target))))


def _log_cosh_without_log2(pred, target):
    a = np.abs(pred - target)
    return float(np.mean(a + np.log1p(np.exp(-2 * a))))


def _log_cosh_grad_sinh(pred, target):
    with np.errstate(over="ignore"):
        return np.sinh(pred - target) / pred.size


N_HINT = "the loss is a mean over all entries, so every entry's gradient carries 1/N (N = pred.size)."

EXERCISE = Exercise(
    notebook="ex03_huber_loss",
    lesson="03",
    visible_seed=303,
    parts=[
        Part("ex03-huber-loss", "huber_loss", 2, call("huber_loss"), _huber_case, reference=solution("huber_loss"),
             mistakes=[Mistake("the linear piece without its offset", _loss_without_offset,
                               "outside the threshold the loss is delta * (|r| - delta/2): without -delta/2 the pieces do not meet."),
                       Mistake("the quadratic piece without its 1/2", _loss_without_half,
                               "inside the threshold the loss is r**2 / 2.")]),
        Part("ex03-huber-grad", "huber_grad", 3, call("huber_grad"), _huber_case, reference=solution("huber_grad"),
             batch_size="pred", like="pred",
             mistakes=[Mistake("the MSE gradient (no clipping)", _grad_of_mse,
                               "beyond |r| > delta the gradient stops growing: it is delta * sign(r) / N there."),
                       Mistake("the L1 gradient everywhere", _grad_l1,
                               "inside the threshold the gradient is r / N, the residual itself.")],
             hint=N_HINT),
        Part("ex03-log-cosh-loss", "log_cosh_loss", 2, call("log_cosh_loss"), _log_cosh_case,
             reference=solution("log_cosh_loss"),
             mistakes=[Mistake("log(cosh(r)) computed directly", _naive_log_cosh,
                               "cosh overflows past |r| ~ 710: use |r| + log1p(exp(-2|r|)) - log(2)."),
                       Mistake("the -log(2) left out", _log_cosh_without_log2,
                               "cosh(r) = exp(|r|) (1 + exp(-2|r|)) / 2: the 1/2 becomes -log(2).")]),
        Part("ex03-log-cosh-grad", "log_cosh_grad", 2, call("log_cosh_grad"), _log_cosh_case,
             reference=solution("log_cosh_grad"), batch_size="pred", like="pred",
             mistakes=[Mistake("sinh instead of tanh", _log_cosh_grad_sinh,
                               "d/dr log(cosh(r)) = sinh(r) / cosh(r) = tanh(r).")],
             hint=N_HINT),
        Part("ex03-log-cosh-grad-any-shape", "log_cosh_grad for a (N, K) batch", 1, call("log_cosh_grad"),
             _log_cosh_matrix_case, reference=solution("log_cosh_grad"), like="pred", hidden=True, cases=1,
             mistakes=[Mistake("divided by len(pred)", _log_cosh_grad_over_rows,
                               "the mean runs over ALL entries, so divide by pred.size, not by the number of rows.")]),
    ],
    mutants=[
        Mutant("no clipping", [("return np.clip(r, -delta, delta) / r.size", "return r / r.size")],
               loses=["ex03-huber-grad"], says={"ex03-huber-grad": "the MSE gradient"}),
        Mutant("sum, not mean", [("return np.clip(r, -delta, delta) / r.size", "return np.clip(r, -delta, delta)")],
               loses=["ex03-huber-grad"], says={"ex03-huber-grad": "times too large"}),
        Mutant("sign flipped", [("    r = pred - target\n    return np.clip", "    r = target - pred\n    return np.clip")],
               loses=["ex03-huber-grad"], says={"ex03-huber-grad": "opposite sign"}),
        Mutant("no offset", [("delta * (size - 0.5 * delta)", "delta * size")],
               loses=["ex03-huber-loss"], says={"ex03-huber-loss": "without its offset"}),
        Mutant("naive log cosh", [("return float(np.mean(size + np.log1p(np.exp(-2 * size)) - np.log(2.0)))",
                                   "return float(np.mean(np.log(np.cosh(pred - target))))")],
               loses=["ex03-log-cosh-loss"], says={"ex03-log-cosh-loss": "inf"}),
        Mutant("tanh gradient not averaged", [("return np.tanh(r) / r.size", "return np.tanh(r)")],
               loses=["ex03-log-cosh-grad", "ex03-log-cosh-grad-any-shape"], says={"ex03-log-cosh-grad": "times too large"}),
        Mutant("mean over the first axis only", [("return np.tanh(r) / r.size", "return np.tanh(r) / len(r)")],
               loses=["ex03-log-cosh-grad-any-shape"], says={"ex03-log-cosh-grad-any-shape": "divided by len(pred)"}),
    ],
)
