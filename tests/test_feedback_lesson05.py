"""Lesson 05's your-turn checks: the references agree with bplearn.optim, and typical wrong answers get specific hints."""

import copy

import numpy as np
import pytest

from bplearn import nn, optim
from bplearn.feedback import lesson05
from bplearn.feedback.yourturn import CORRECT, NOT_DONE, WRONG

TASKS = {"training_loop": lesson05.training_loop, "momentum_update": lesson05.momentum_update,
         "adam_update": lesson05.adam_update}


def _inputs(task, seed):
    return task.make_inputs(np.random.default_rng(seed))


# --- references against bplearn.optim on fresh inputs ---------------------------------------

@pytest.mark.parametrize("seed", range(3))
def test_momentum_reference_matches_optim_sgd(seed):
    a = _inputs(lesson05.momentum_update, seed)
    p = nn.Parameter(a["w"])
    sgd = optim.SGD([p], lr=a["lr"], momentum=a["momentum"])
    sgd.state[0]["momentum_buffer"] = a["velocity"].copy()
    p.grad[...] = a["grad"]
    sgd.step()
    new_w, new_velocity = lesson05._momentum_update(**a)
    np.testing.assert_allclose(new_w, p.data, rtol=1e-12)
    np.testing.assert_allclose(new_velocity, sgd.state[0]["momentum_buffer"], rtol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_adam_reference_matches_optim_adam(seed):
    a = _inputs(lesson05.adam_update, seed)
    p = nn.Parameter(a["w"])
    adam = optim.Adam([p], lr=a["lr"], betas=(a["beta1"], a["beta2"]), eps=a["eps"])
    adam.state[0].update(m=a["m"].copy(), v=a["v"].copy())
    adam.steps = a["t"] - 1                      # step() counts this step as number t
    p.grad[...] = a["grad"]
    adam.step()
    new_w, new_m, new_v = lesson05._adam_update(**a)
    np.testing.assert_allclose(new_w, p.data, rtol=1e-12)
    np.testing.assert_allclose(new_m, adam.state[0]["m"], rtol=1e-12)
    np.testing.assert_allclose(new_v, adam.state[0]["v"], rtol=1e-12)


def test_adam_reference_matches_torch_over_several_steps(torch):
    rng = np.random.default_rng(7)
    w0, grads = rng.normal(size=4), rng.normal(size=(5, 4))
    t_w = torch.tensor(w0, requires_grad=True)
    t_opt = torch.optim.Adam([t_w], lr=0.05, betas=(0.9, 0.99), eps=1e-8)
    w, m, v = w0.copy(), np.zeros(4), np.zeros(4)
    for t, g in enumerate(grads, start=1):
        t_w.grad = torch.tensor(g)
        t_opt.step()
        w, m, v = lesson05._adam_update(w, g, m, v, t, 0.05, 0.9, 0.99, 1e-8)
    np.testing.assert_allclose(w, t_w.detach().numpy(), rtol=1e-10)


def test_training_loop_reference_matches_train_fit():
    a = _inputs(lesson05.training_loop, 0)
    losses = lesson05.training_loop.reference(**copy.deepcopy(a))     # trains its own copy
    model, opt = a["model"], a["optimizer"]
    from bplearn import train
    history = train.fit(model, a["loss_fn"], opt, (a["X"], a["y"]), epochs=a["epochs"],
                        batch_size=len(a["X"]), shuffle=False, progress=False)
    np.testing.assert_allclose(losses, history["loss"], rtol=1e-12)


# --- stubs -----------------------------------------------------------------------------------

def test_untouched_stubs_are_not_done():
    def training_loop(model, loss_fn, optimizer, X, y, epochs):
        """Return the losses."""
        ...

    def momentum_update(w, grad, velocity, lr, momentum):
        """Return new_w, new_velocity."""
        ...

    def adam_update(w, grad, m, v, t, lr, beta1, beta2, eps):
        """Return new_w, new_m, new_v."""
        ...

    for fn in (training_loop, momentum_update, adam_update):
        assert TASKS[fn.__name__].verdict(fn).status == NOT_DONE


@pytest.mark.parametrize("name", TASKS)
def test_each_reference_passes_its_own_check(name):
    assert TASKS[name].verdict(TASKS[name].reference).status == CORRECT


# --- training_loop: wrong answers --------------------------------------------------------------

def test_a_loop_without_zero_grad_is_named():
    def training_loop(model, loss_fn, optimizer, X, y, epochs):
        losses = []
        for _ in range(epochs):
            loss = loss_fn(model(X), y)
            model.backward(loss_fn.backward())
            optimizer.step()
            losses.append(loss)
        return np.array(losses)

    verdict = lesson05.training_loop.verdict(training_loop)
    assert verdict.status == WRONG and "the gradients are never cleared" in verdict.message
    assert "optimizer.zero_grad()" in verdict.message


def test_a_loop_that_zeroes_the_gradients_before_the_step_is_named():
    def training_loop(model, loss_fn, optimizer, X, y, epochs):
        losses = []
        for _ in range(epochs):
            loss = loss_fn(model(X), y)
            model.backward(loss_fn.backward())
            optimizer.zero_grad()               # wipes the gradients the step needs
            optimizer.step()
            losses.append(loss)
        return np.array(losses)

    verdict = lesson05.training_loop.verdict(training_loop)
    assert "the weights never change" in verdict.message and "optimizer.step() after model.backward" in verdict.message


def test_a_loop_returning_only_the_last_loss_gets_a_plain_message():
    def training_loop(model, loss_fn, optimizer, X, y, epochs):
        for _ in range(epochs):
            optimizer.zero_grad()
            loss = loss_fn(model(X), y)
            model.backward(loss_fn.backward())
            optimizer.step()
        return loss

    verdict = lesson05.training_loop.verdict(training_loop)
    assert "losses has shape () but should have shape" in verdict.message


# --- momentum_update: wrong answers ------------------------------------------------------------

def test_momentum_stepping_with_the_gradient_is_named():
    def momentum_update(w, grad, velocity, lr, momentum):
        velocity = momentum * velocity + grad
        return w - lr * grad, velocity

    verdict = lesson05.momentum_update.verdict(momentum_update)
    assert list(verdict.problems) == ["new_w"]
    assert "the step uses the gradient, not the velocity" in verdict.message


def test_momentum_as_an_average_is_named():
    def momentum_update(w, grad, velocity, lr, momentum):
        velocity = momentum * velocity + (1 - momentum) * grad
        return w - lr * velocity, velocity

    verdict = lesson05.momentum_update.verdict(momentum_update)
    assert "the velocity is a weighted average" in verdict.message and "(1 - momentum)" in verdict.message


def test_momentum_stepping_with_the_old_velocity_is_named():
    def momentum_update(w, grad, velocity, lr, momentum):
        new_w = w - lr * velocity
        return new_w, momentum * velocity + grad

    verdict = lesson05.momentum_update.verdict(momentum_update)
    assert "the step uses the old velocity" in verdict.problems["new_w"]


def test_momentum_with_a_flipped_step_gets_the_sign_hint():
    def momentum_update(w, grad, velocity, lr, momentum):
        velocity = momentum * velocity + grad
        return w + lr * velocity, velocity

    verdict = lesson05.momentum_update.verdict(momentum_update)
    assert "new_w" in verdict.problems and "new_velocity" not in verdict.problems


# --- adam_update: wrong answers ----------------------------------------------------------------

def test_adam_without_bias_correction_is_named():
    def adam_update(w, grad, m, v, t, lr, beta1, beta2, eps):
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad ** 2
        return w - lr * m / (np.sqrt(v) + eps), m, v

    verdict = lesson05.adam_update.verdict(adam_update)
    assert list(verdict.problems) == ["new_w"] and "no bias correction" in verdict.message


def test_adam_with_eps_inside_the_root_is_named():
    def adam_update(w, grad, m, v, t, lr, beta1, beta2, eps):
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad ** 2
        m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
        return w - lr * m_hat / np.sqrt(v_hat + eps), m, v

    verdict = lesson05.adam_update.verdict(adam_update)
    assert "eps is inside the square root" in verdict.message


def test_adam_counting_steps_from_zero_is_named():
    def adam_update(w, grad, m, v, t, lr, beta1, beta2, eps):
        t = t + 1                                   # thinks t starts at 0
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad ** 2
        return w - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps), m, v

    verdict = lesson05.adam_update.verdict(adam_update)
    assert "off by one step" in verdict.message


def test_adam_with_the_squared_average_missing_its_square_is_reported():
    def adam_update(w, grad, m, v, t, lr, beta1, beta2, eps):
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad          # forgot ** 2
        return w - lr * (m / (1 - beta1 ** t)) / (np.sqrt(np.abs(v) / (1 - beta2 ** t)) + eps), m, v

    verdict = lesson05.adam_update.verdict(adam_update)
    assert "new_v" in verdict.problems and "new_m" not in verdict.problems
