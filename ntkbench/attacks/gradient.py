"""FGSM and PGD (cross-entropy), batched and jitted."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax

from ntkbench.attacks._common import as_logits_fn, check_inputs, loss_logits_grad, predict_wrong, select
from ntkbench.attacks.losses import cross_entropy
from ntkbench.attacks.threat import ThreatModel


@jax.jit
def _fgsm(fn, x, y, threat):
    _, _, g = loss_logits_grad(fn, cross_entropy, x, y)
    return threat.project(x + threat.eps * threat.steepest_direction(g), x)


def fgsm(logits_fn, x, y, threat: ThreatModel):
    """Fast Gradient (Sign) Method: one step of size eps along sign(∇CE) (L∞) or ∇CE/‖∇CE‖ (L2),
    then projection onto the eps-ball ∩ box. Returns x_adv, same shape as x."""
    x, y = check_inputs(x, y, threat)
    return _fgsm(as_logits_fn(logits_fn), x, y, threat)


def _pgd_single(fn, x, y, threat, key, steps, step_size, random_start):
    """One PGD run. Returns (x_out, fooled, loss_out): x_out is the first misclassified iterate
    if any iterate was misclassified, else the final iterate."""
    x0 = threat.random_in_ball(key, x) if random_start else x

    def body(_, carry):
        xa, best_adv, fooled = carry
        _, logits, g = loss_logits_grad(fn, cross_entropy, xa, y)
        wrong = predict_wrong(logits, y)
        best_adv = select(wrong & ~fooled, xa, best_adv)
        fooled = fooled | wrong
        xa = threat.project(xa + step_size * threat.steepest_direction(g), x)
        return xa, best_adv, fooled

    fooled0 = jnp.zeros(x.shape[0], bool)
    xa, best_adv, fooled = lax.fori_loop(0, steps, body, (x0, x0, fooled0))
    logits = fn(xa)
    wrong = predict_wrong(logits, y)
    best_adv = select(wrong & ~fooled, xa, best_adv)
    fooled = fooled | wrong
    x_out = select(fooled, best_adv, xa)
    loss = jnp.where(fooled, jnp.inf, cross_entropy(logits, y))
    return x_out, fooled, loss


@functools.partial(jax.jit, static_argnames=("steps", "restarts", "random_start"))
def _pgd(fn, x, y, threat, key, step_size, *, steps, restarts, random_start):
    if step_size is None:
        step_size = 2.5 * threat.eps / steps

    def restart(carry, k):
        best_x, best_fooled, best_loss = carry
        xr, fooled, loss = _pgd_single(fn, x, y, threat, k, steps, step_size, random_start)
        # Keep the first misclassified example found; among unsuccessful runs, the highest loss.
        take = (~best_fooled) & (fooled | (loss > best_loss))
        return (select(take, xr, best_x), best_fooled | fooled, jnp.where(take, loss, best_loss)), None

    init = (x, jnp.zeros(x.shape[0], bool), jnp.full(x.shape[0], -jnp.inf, jnp.float32))
    (x_adv, _, _), _ = lax.scan(restart, init, jax.random.split(key, restarts))
    return x_adv


def pgd(
    logits_fn,
    x,
    y,
    threat: ThreatModel,
    key,
    steps: int = 50,
    step_size=None,
    restarts: int = 1,
    random_start: bool = True,
):
    """Projected gradient descent on the cross-entropy (Madry et al. 2018).

    Each step moves by step_size along sign(∇CE) (L∞) or the normalised gradient ∇CE/‖∇CE‖₂ (L2)
    and projects onto the eps-ball ∩ box. step_size defaults to 2.5·eps/steps. With random_start
    each restart begins at a uniform random point of the ball. Per point, the returned input is
    the first misclassified iterate found over all restarts, else the final iterate of the
    restart with the highest cross-entropy.
    """
    if steps < 1 or restarts < 1:
        raise ValueError(f"pgd needs steps >= 1 and restarts >= 1, got {steps}, {restarts}")
    x, y = check_inputs(x, y, threat)
    step_size = None if step_size is None else jnp.asarray(step_size, jnp.float32)
    return _pgd(
        as_logits_fn(logits_fn),
        x,
        y,
        threat,
        key,
        step_size,
        steps=int(steps),
        restarts=int(restarts),
        random_start=bool(random_start),
    )
