"""Judge spec of exercise 5 (format: docs/exercise_format.md)."""
import numpy as np

from bplearn import nn, optim
from bplearn.grading.spec import Exercise, Mistake, Mutant, Part, call, solution


def _adagrad_case(rng):
    shape = (int(rng.integers(2, 5)), int(rng.integers(1, 4)))
    return {"param": rng.normal(size=shape), "grad": rng.normal(size=shape),
            "sum_sq": rng.uniform(0.0, 2.0, size=shape), "lr": float(rng.uniform(0.05, 0.5)), "eps": 1e-8}


def _adagrad_old_sum(param, grad, sum_sq, lr, eps):
    return param - lr * grad / (np.sqrt(sum_sq) + eps), sum_sq + grad ** 2


def _adagrad_without_sqrt(param, grad, sum_sq, lr, eps):
    new_sum = sum_sq + grad ** 2
    return param - lr * grad / (new_sum + eps), new_sum


def _adagrad_square_not_summed(param, grad, sum_sq, lr, eps):
    return param - lr * grad / (np.sqrt(grad ** 2) + eps), grad ** 2


def _line_case(rng):
    N, D = int(rng.integers(40, 70)), int(rng.integers(1, 3))
    X = rng.uniform(-1, 1, size=(N, D))
    y = X @ rng.normal(size=(D, 1)) + rng.normal() + 0.05 * rng.normal(size=(N, 1))
    return {"X": X, "y": y, "epochs": 10, "lr": 0.05, "batch_size": int(rng.integers(4, 12)),
            "seed": int(rng.integers(1000))}


def _loop(X, y, epochs, lr, batch_size, seed, steps):
    """The exercise's training loop with the per-batch steps in the given order (for wrong answers)."""
    model = nn.Linear(X.shape[1], 1, rng=seed)
    loss_fn = nn.MSELoss()
    opt = optim.SGD(model.parameters(), lr=lr)
    shuffle = np.random.default_rng(seed)
    for _ in range(epochs):
        order = shuffle.permutation(len(X))
        for start in range(0, len(X), batch_size):
            rows = order[start:start + batch_size]
            for step in steps:
                if step == "zero":
                    opt.zero_grad()
                elif step == "forward+backward":
                    loss_fn(model(X[rows]), y[rows])
                    model.backward(loss_fn.backward())
                else:
                    opt.step()
    return model.weight.data.copy(), model.bias.data.copy(), []


def _never_zeroed(**case):
    with np.errstate(all="ignore"):
        return _loop(**case, steps=["forward+backward", "step"])


def _zeroed_before_step(**case):
    return _loop(**case, steps=["forward+backward", "zero", "step"])


NO_ZERO = ("backward ADDS into .grad, so without opt.zero_grad() every batch's gradient piles onto "
           "the previous ones: call it once per batch, before the backward pass.")
ZERO_LATE = "opt.zero_grad() between backward and step wipes the gradient the step needs: call it first."

EXERCISE = Exercise(
    notebook="ex05_training_loop",
    lesson="05",
    visible_seed=505,
    parts=[
        Part("ex05-adagrad-param", "the new param", 2, call("adagrad_step"), _adagrad_case,
             reference=solution("adagrad_step"), output=0, like="param",
             mistakes=[Mistake("the old sum used for the step", _adagrad_old_sum,
                               "add this step's g**2 to the sum first, then divide by its square root."),
                       Mistake("square root missing", _adagrad_without_sqrt, "divide by sqrt(s) + eps, not s + eps."),
                       Mistake("only this step's square", _adagrad_square_not_summed,
                               "AdaGrad divides by the root of the SUM of all squared gradients so far.")]),
        Part("ex05-adagrad-sum", "the new sum_sq", 1, call("adagrad_step"), _adagrad_case,
             reference=solution("adagrad_step"), output=1, like="param",
             mistakes=[Mistake("only this step's square", _adagrad_square_not_summed,
                               "the state is a running sum: s + g**2.")]),
        Part("ex05-fit-weight", "the trained weight", 2, call("fit_line"), _line_case,
             reference=solution("fit_line"), output=0, like="(1, D)", rtol=1e-7, atol=1e-9,
             mistakes=[Mistake("gradients never cleared", _never_zeroed, NO_ZERO),
                       Mistake("gradients cleared between backward and step", _zeroed_before_step, ZERO_LATE)],
             hint="keep the model's seed and the shuffling generator as in buggy_fit_line, and change only the missing step."),
        Part("ex05-fit-bias", "the trained bias", 1, call("fit_line"), _line_case,
             reference=solution("fit_line"), output=1, like="(1,)", rtol=1e-7, atol=1e-9,
             mistakes=[Mistake("gradients never cleared", _never_zeroed, NO_ZERO),
                       Mistake("gradients cleared between backward and step", _zeroed_before_step, ZERO_LATE)]),
    ],
    mutants=[
        Mutant("old sum", [("new_param = param - lr * grad / (np.sqrt(new_sum) + eps)",
                            "new_param = param - lr * grad / (np.sqrt(sum_sq) + eps)")],
               loses=["ex05-adagrad-param"], says={"ex05-adagrad-param": "the old sum"}),
        Mutant("no sqrt", [("np.sqrt(new_sum) + eps", "new_sum + eps")],
               loses=["ex05-adagrad-param"], says={"ex05-adagrad-param": "square root missing"}),
        Mutant("not a sum", [("new_sum = sum_sq + grad ** 2", "new_sum = grad ** 2")],
               loses=["ex05-adagrad-param", "ex05-adagrad-sum"], says={"ex05-adagrad-sum": "only this step's square"}),
        Mutant("bug kept", [("            opt.zero_grad()                      # the missing step: clear the last batch's gradients\n", "")],
               loses=["ex05-fit-weight", "ex05-fit-bias"], says={"ex05-fit-weight": "never cleared"}),
        Mutant("zero_grad too late", [("            opt.zero_grad()                      # the missing step: clear the last batch's gradients\n", ""),
                                      ("            model.backward(loss_fn.backward())\n            opt.step()\n",
                                       "            model.backward(loss_fn.backward())\n            opt.zero_grad()\n            opt.step()\n")],
               loses=["ex05-fit-weight", "ex05-fit-bias"], says={"ex05-fit-weight": "between backward and step"}),
    ],
)
