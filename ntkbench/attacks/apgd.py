"""Auto-PGD (Croce & Hein, ICML 2020): APGD with the CE or DLR loss, and APGD-T with the
targeted DLR loss. Written from the paper's description; batched and jitted.

Schedule (per point, n_iter = N): checkpoints at w_j = ⌈p_j·N⌉ with p_0 = 0, p_1 = 0.22,
p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06). In iteration counts: the first checkpoint comes
after k = max(⌊0.22N⌋, 1) iterations and each later interval is k ← max(k − max(⌊0.03N⌋, 1),
max(⌊0.06N⌋, 1)). At a checkpoint the step size of a point is halved, and the point restarts from
its best iterate (with that iterate's gradient), when
  (1) the loss increased in at most rho·k of the k steps since the last checkpoint, or
  (2) the step size was not reduced at the last checkpoint and the best loss did not improve
      since then.
Update: z = P(x_k + η·s(∇)), x_{k+1} = P(x_k + α(z − x_k) + (1 − α)(x_k − x_{k−1})), α = 0.75
(α = 1 on the first step), s = sign for L∞ and ∇/‖∇‖₂ for L2, initial η = 2·eps.
Start: L∞ a random point with ‖δ‖∞ = eps (uniform noise rescaled); L2 a uniform point of the
sphere of radius eps; both clipped to the box.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax

from ntkbench.attacks._common import as_logits_fn, check_inputs, loss_logits_grad, predict_wrong, select
from ntkbench.attacks.losses import cross_entropy, dlr, dlr_targeted, margin
from ntkbench.attacks.threat import ThreatModel, _expand, l2_norm, linf_norm

LOSSES = {"ce": cross_entropy, "dlr": dlr}


def checkpoint_intervals(n_iter: int) -> tuple[int, int, int]:
    """(first interval, decrement, minimum interval) in iterations for n_iter iterations."""
    return max(int(0.22 * n_iter), 1), max(int(0.03 * n_iter), 1), max(int(0.06 * n_iter), 1)


def checkpoints(n_iter: int) -> list[int]:
    """The iterations (1-based counts of steps taken) at which the step size may be halved."""
    k, dec, kmin = checkpoint_intervals(n_iter)
    out, t = [], 0
    while t + k <= n_iter:
        t += k
        out.append(t)
        k = max(k - dec, kmin)
    return out


def _apgd_start(threat, key, x):
    if threat.norm == "linf":
        t = jax.random.uniform(key, x.shape, x.dtype, -1.0, 1.0)
        d = t / _expand(jnp.maximum(linf_norm(t), 1e-12), t) * threat.eps
    else:
        t = jax.random.normal(key, x.shape, x.dtype)
        d = t / _expand(jnp.maximum(l2_norm(t), 1e-12), t) * threat.eps
    return threat.project(x + d, x)


def _apgd_single(fn, x, y, threat, key, loss_fn, aux, n_iter, rho):
    """One APGD run. Returns (x_out, fooled, loss_best): x_out is the last misclassified iterate
    if the point was ever misclassified, else the iterate with the highest loss."""
    k0, dec, kmin = checkpoint_intervals(n_iter)
    B = x.shape[0]
    x_adv = _apgd_start(threat, key, x)
    loss, logits, grad = loss_logits_grad(fn, loss_fn, x_adv, y, *aux)
    fooled = predict_wrong(logits, y)
    state = dict(
        x_adv=x_adv,
        x_old=x_adv,
        grad=grad,
        step=jnp.full((B,), 2.0, jnp.float32) * threat.eps,
        x_best=x_adv,
        grad_best=grad,
        loss_best=loss,
        x_best_adv=x_adv,
        fooled=fooled,
        prev_loss=loss,
        n_inc=jnp.zeros((B,), jnp.int32),
        counter=jnp.int32(0),
        k=jnp.int32(k0),
        loss_best_last=loss,
        reduced_last=jnp.ones((B,), bool),
    )

    def body(i, s):
        x_adv = s["x_adv"]
        momentum = x_adv - s["x_old"]
        a = jnp.where(i > 0, 0.75, 1.0).astype(x.dtype)
        z = threat.project(x_adv + _expand(s["step"], x_adv) * threat.steepest_direction(s["grad"]), x)
        x_new = threat.project(x_adv + a * (z - x_adv) + (1.0 - a) * momentum, x)

        loss, logits, grad = loss_logits_grad(fn, loss_fn, x_new, y, *aux)
        wrong = predict_wrong(logits, y)
        x_best_adv = select(wrong, x_new, s["x_best_adv"])
        fooled = s["fooled"] | wrong
        n_inc = s["n_inc"] + (loss > s["prev_loss"]).astype(jnp.int32)
        better = loss > s["loss_best"]
        x_best = select(better, x_new, s["x_best"])
        grad_best = select(better, grad, s["grad_best"])
        loss_best = jnp.where(better, loss, s["loss_best"])
        counter = s["counter"] + 1

        # Checkpoint (all points share the schedule; the decision is per point).
        at_check = counter == s["k"]
        oscillating = n_inc.astype(jnp.float32) <= rho * s["k"].astype(jnp.float32)
        stalled = (~s["reduced_last"]) & (s["loss_best_last"] >= loss_best)
        reduce = at_check & (oscillating | stalled)
        step = jnp.where(reduce, 0.5 * s["step"], s["step"])
        x_next = select(reduce, x_best, x_new)
        grad_next = select(reduce, grad_best, grad)
        return dict(
            x_adv=x_next,
            x_old=x_adv,
            grad=grad_next,
            step=step,
            x_best=x_best,
            grad_best=grad_best,
            loss_best=loss_best,
            x_best_adv=x_best_adv,
            fooled=fooled,
            prev_loss=loss,
            n_inc=jnp.where(at_check, 0, n_inc),
            counter=jnp.where(at_check, 0, counter),
            k=jnp.where(at_check, jnp.maximum(s["k"] - dec, kmin), s["k"]),
            loss_best_last=jnp.where(at_check, loss_best, s["loss_best_last"]),
            reduced_last=jnp.where(at_check, oscillating | stalled, s["reduced_last"]),
        )

    s = lax.fori_loop(0, n_iter, body, state)
    x_out = select(s["fooled"], s["x_best_adv"], s["x_best"])
    return x_out, s["fooled"], s["loss_best"]


def _merge(best, new, score_new):
    """Keep the first misclassified example; among unsuccessful ones the higher score."""
    bx, bf, bs = best
    nx, nf = new
    take = (~bf) & (nf | (score_new > bs))
    return select(take, nx, bx), bf | nf, jnp.where(take, score_new, bs)


@functools.partial(jax.jit, static_argnames=("loss", "n_iter", "restarts", "rho"))
def _apgd(fn, x, y, threat, key, *, loss, n_iter, restarts, rho):
    loss_fn = LOSSES[loss]

    def restart(best, k):
        xr, fooled, loss_best = _apgd_single(fn, x, y, threat, k, loss_fn, (), n_iter, rho)
        return _merge(best, (xr, fooled), loss_best), None

    init = (x, jnp.zeros(x.shape[0], bool), jnp.full(x.shape[0], -jnp.inf, jnp.float32))
    (x_adv, _, _), _ = lax.scan(restart, init, jax.random.split(key, restarts))
    return x_adv


def apgd(
    logits_fn, x, y, threat: ThreatModel, key, loss: str = "ce", n_iter: int = 100, restarts: int = 1, rho: float = 0.75
):
    """Untargeted APGD with the cross-entropy ("ce") or DLR ("dlr") loss.

    Per point, returns a misclassified iterate if any run found one, else the highest-loss
    iterate over all runs. Every returned point lies in the eps-ball ∩ box.
    """
    if loss not in LOSSES:
        raise ValueError(f"apgd loss must be one of {sorted(LOSSES)}, got {loss!r}")
    if n_iter < 1 or restarts < 1:
        raise ValueError(f"apgd needs n_iter >= 1 and restarts >= 1, got {n_iter}, {restarts}")
    x, y = check_inputs(x, y, threat)
    fn = as_logits_fn(logits_fn)
    if loss == "dlr":
        n_classes = jax.eval_shape(fn, x).shape[-1]
        if n_classes < 3:
            raise ValueError(f"apgd with the DLR loss needs >= 3 classes, the model has {n_classes}")
    return _apgd(fn, x, y, threat, key, loss=loss, n_iter=int(n_iter), restarts=int(restarts), rho=float(rho))


@functools.partial(jax.jit, static_argnames=("n_target_classes", "n_iter", "restarts", "rho"))
def _apgd_t(fn, x, y, threat, key, *, n_target_classes, n_iter, restarts, rho):
    clean_logits = fn(x)
    ranked = jnp.argsort(-clean_logits, axis=-1)  # most likely first

    def per_target(best, inp):
        rank, k = inp
        target = jnp.take(ranked, rank, axis=-1)
        for kr in jax.random.split(k, restarts):
            xr, fooled, _ = _apgd_single(fn, x, y, threat, kr, dlr_targeted, (target,), n_iter, rho)
            # Targeted losses of different targets are not comparable: rank unsuccessful
            # candidates by the untargeted margin (smaller = closer to misclassified).
            score = -margin(fn(xr), y)
            best = _merge(best, (xr, fooled), score)
        return best, None

    ranks = jnp.arange(1, n_target_classes + 1)
    keys = jax.random.split(key, n_target_classes)
    init = (x, jnp.zeros(x.shape[0], bool), jnp.full(x.shape[0], -jnp.inf, jnp.float32))
    (x_adv, _, _), _ = lax.scan(per_target, init, (ranks, keys))
    return x_adv


def apgd_t(
    logits_fn,
    x,
    y,
    threat: ThreatModel,
    key,
    n_target_classes: int = 9,
    n_iter: int = 100,
    restarts: int = 1,
    rho: float = 0.75,
):
    """Targeted APGD with the targeted DLR loss: one run (× restarts) per target class, the
    targets being the 2nd, 3rd, …, (n_target_classes+1)-th most likely classes at the clean point
    (capped at C − 1 targets). A point counts as fooled when it is misclassified as anything.
    Per point, returns the first misclassified example over targets, else the candidate with the
    smallest untargeted margin. Needs >= 4 classes.
    """
    if n_target_classes < 1 or n_iter < 1 or restarts < 1:
        raise ValueError("apgd_t needs n_target_classes, n_iter, restarts >= 1")
    x, y = check_inputs(x, y, threat)
    fn = as_logits_fn(logits_fn)
    n_classes = jax.eval_shape(fn, x).shape[-1]
    if n_classes < 4:
        raise ValueError(f"apgd-t (targeted DLR loss) needs >= 4 classes, the model has {n_classes}")
    n_t = min(int(n_target_classes), n_classes - 1)
    return _apgd_t(
        fn, x, y, threat, key, n_target_classes=n_t, n_iter=int(n_iter), restarts=int(restarts), rho=float(rho)
    )
