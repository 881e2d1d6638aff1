"""Robust-accuracy evaluation and reliability flags, for the `adversarial` task's protocol
(`ntkbench/tasks/adversarial/__init__.py`).

Every attack starts from the clean input (attacks are not chained). A point is correct under an
attack when it is correctly classified clean *and* at the attack's output; robust accuracy is
the per-point worst case over all attacks run (AutoAttack's rule: robust only if every attack
failed). Every adversarial example is checked with `ThreatModel.contains` before it counts; one
outside the eps-ball or the box raises `AttackBoundsError`.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Callable, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ntkbench.attacks._common import as_logits_fn, check_inputs, predict_wrong
from ntkbench.attacks.apgd import apgd, apgd_t
from ntkbench.attacks.gradient import fgsm, pgd
from ntkbench.attacks.losses import margin
from ntkbench.attacks.random_search import random_search
from ntkbench.attacks.threat import ThreatModel, l2_norm

DEFAULT_ATTACKS = ("fgsm", "pgd", "apgd-ce", "apgd-t")

# Strength order of the gradient attacks (higher tier = at least as strong by design):
#   fgsm (1 step) < pgd (50 steps, CE) < apgd-ce = apgd-dlr (100 adaptive steps) <= apgd-t
# (9 targeted DLR runs). A weaker attack with LOWER robust accuracy than a stronger one is a
# symptom of gradient masking or of a broken attack. "random-search" is gradient-free and weak by
# design: if it beats any gradient attack, the gradients are not informative.
STRENGTH = {"fgsm": 0, "pgd": 1, "apgd-ce": 2, "apgd-dlr": 2, "apgd-t": 3}
GRADIENT_FREE = ("random-search",)


def _run_fgsm(fn, x, y, threat, key, **kw):
    return fgsm(fn, x, y, threat, **kw)


ATTACKS: dict[str, Callable] = {
    "fgsm": _run_fgsm,
    "pgd": pgd,
    "apgd-ce": functools.partial(apgd, loss="ce"),
    "apgd-dlr": functools.partial(apgd, loss="dlr"),
    "apgd-t": apgd_t,
    "random-search": random_search,
}


class AttackBoundsError(RuntimeError):
    """An attack returned a point outside the eps-ball or the valid box: a bug, never counted."""


@dataclasses.dataclass
class AttackReport:
    """accs: percent, keys "clean", each attack name, "robust" (worst case over the attacks).
    correct: per-point bool arrays (N,) with the same keys.
    zero_grad_frac: fraction of points whose input gradient of the margin is exactly zero.
    flags: reliability flags (see `reliability_flags`).
    x_adv: per attack, the adversarial inputs (only with return_adv=True)."""

    n: int
    accs: dict[str, float]
    correct: dict[str, np.ndarray]
    zero_grad_frac: float
    flags: list[str]
    x_adv: dict[str, np.ndarray] | None = None

    def metrics(self) -> dict[str, float]:
        """Accuracies under the result-file metric names of the adversarial protocol
        (`ntkbench/tasks/adversarial/__init__.py`)."""
        out = {"clean_acc": self.accs["clean"]}
        for name, acc in self.accs.items():
            if name not in ("clean", "robust"):
                out[f"robust_acc@{name}"] = acc
        out["robust_acc"] = self.accs["robust"]
        return out


@jax.jit
def _clean_diagnostics(fn, x, y):
    logits = fn(x)
    g = jax.grad(lambda xa: jnp.sum(margin(fn(xa), y)))(x)
    zero_grad = l2_norm(g.reshape(g.shape[0], -1)) == 0
    looks_like_probs = jnp.all((logits >= 0) & (logits <= 1), axis=-1) & (jnp.abs(jnp.sum(logits, axis=-1) - 1) < 1e-4)
    return ~predict_wrong(logits, y), zero_grad, looks_like_probs


@jax.jit
def _correct(fn, x, y):
    return ~predict_wrong(fn(x), y)


@jax.jit
def _bounds(threat, x_adv, x, tol):
    return threat.contains(x_adv, x, tol), threat.distance(x_adv, x)


def evaluate_attacks(
    logits_fn,
    x,
    y,
    threat: ThreatModel,
    key,
    attacks: Sequence[str] = DEFAULT_ATTACKS,
    batch_size: int = 500,
    attack_kwargs: Mapping[str, Mapping] | None = None,
    tol: float = 1e-5,
    return_adv: bool = False,
    flag_tol: float | None = None,
) -> AttackReport:
    """Clean and robust accuracy of logits_fn on (x, y) under each attack and their worst case.

    attacks: names from `ATTACKS` ("fgsm", "pgd", "apgd-ce", "apgd-dlr", "apgd-t",
      "random-search"). attack_kwargs: per-attack keyword overrides, e.g.
      {"pgd": {"restarts": 5}, "apgd-t": {"n_iter": 50}}.
    batch_size: points per jitted call; the last batch is padded (with copies of a real point)
      so that every call has the same shape, and the padding is dropped.
    flag_tol: the `tol` of `reliability_flags` (percentage points); default max(0.5, 100/N), so
      a one-point difference never raises a flag.
    Raises AttackBoundsError if any adversarial example lies outside the eps-ball or the box
    (beyond tol), and ValueError if a clean input lies outside the box.
    """
    attacks = tuple(attacks)
    unknown = [a for a in attacks if a not in ATTACKS]
    if unknown:
        raise ValueError(f"unknown attacks {unknown}; known: {sorted(ATTACKS)}")
    if len(set(attacks)) != len(attacks):
        raise ValueError(f"duplicate attack names in {attacks}")
    attack_kwargs = dict(attack_kwargs or {})
    bad = [a for a in attack_kwargs if a not in attacks]
    if bad:
        raise ValueError(f"attack_kwargs given for attacks not run: {bad}")
    x, y = check_inputs(x, y, threat)
    n = int(x.shape[0])
    if n == 0:
        raise ValueError("evaluate_attacks needs at least one point")
    outside_box = ~np.asarray(
        jnp.all((x >= threat.lower - tol) & (x <= threat.upper + tol), axis=tuple(range(1, x.ndim)))
    )
    if outside_box.any():
        raise ValueError(
            f"{int(outside_box.sum())} clean inputs lie outside the box "
            f"[{threat.lower}, {threat.upper}] (first: index {int(np.argmax(outside_box))})"
        )
    fn = as_logits_fn(logits_fn)
    bs = max(1, min(int(batch_size), n))

    clean, zero_grad, probs = [], [], []
    per_attack: dict[str, list[np.ndarray]] = {a: [] for a in attacks}
    advs: dict[str, list[np.ndarray]] | None = {a: [] for a in attacks} if return_adv else None
    for b, start in enumerate(range(0, n, bs)):
        xb, yb = x[start : start + bs], y[start : start + bs]
        m = xb.shape[0]
        if m < bs:  # pad to a fixed shape: one compilation per attack
            pad = bs - m
            xb = jnp.concatenate([xb, jnp.repeat(xb[:1], pad, axis=0)])
            yb = jnp.concatenate([yb, jnp.repeat(yb[:1], pad, axis=0)])
        c, z, p = _clean_diagnostics(fn, xb, yb)
        clean.append(np.asarray(c)[:m])
        zero_grad.append(np.asarray(z)[:m])
        probs.append(np.asarray(p)[:m])
        for ai, name in enumerate(attacks):
            k = jax.random.fold_in(jax.random.fold_in(key, ai), b)
            xa = ATTACKS[name](fn, xb, yb, threat, k, **attack_kwargs.get(name, {}))
            if xa.shape != xb.shape:
                raise AttackBoundsError(f"{name} returned shape {xa.shape}, expected {xb.shape}")
            inside, dist = (np.asarray(v)[:m] for v in _bounds(threat, xa, xb, tol))
            if not inside.all():
                i = int(np.argmin(inside))
                raise AttackBoundsError(
                    f"{name}: {int((~inside).sum())} of {m} adversarial examples in batch {b} lie "
                    f"outside the {threat.norm} ball of eps={float(threat.eps)} ∩ box "
                    f"[{float(threat.lower)}, {float(threat.upper)}] (tol {tol}); first: point "
                    f"{start + i}, distance {float(dist[i]):.6g}. Not counted: this is a bug."
                )
            per_attack[name].append(np.asarray(_correct(fn, xa, yb))[:m] & clean[-1])
            if advs is not None:
                advs[name].append(np.asarray(xa)[:m])

    correct = {"clean": np.concatenate(clean)}
    for name in attacks:
        correct[name] = np.concatenate(per_attack[name])
    robust = correct["clean"].copy()
    for name in attacks:
        robust &= correct[name]
    correct["robust"] = robust
    accs = {k: float(100.0 * v.mean()) for k, v in correct.items()}
    zero_grad_frac = float(np.concatenate(zero_grad).mean())
    if flag_tol is None:
        flag_tol = max(0.5, 100.0 / n)
    flags = reliability_flags(accs, zero_grad_frac=zero_grad_frac, tol=flag_tol)
    if np.concatenate(probs).all():
        flags.append(
            "possibly-unreliable: logits_fn outputs look like probabilities (rows in "
            "[0, 1] summing to 1); attacks expect logits"
        )
    return AttackReport(
        n=n,
        accs=accs,
        correct=correct,
        zero_grad_frac=zero_grad_frac,
        flags=flags,
        x_adv={k: np.concatenate(v) for k, v in advs.items()} if advs is not None else None,
    )


def eps_sweep(logits_fn, x, y, threat: ThreatModel, key, eps_values: Sequence[float], **kwargs) -> dict[float, float]:
    """Worst-case robust accuracy (percent) at each eps, same attacks and key at every eps:
    the `eps_curve` argument of `reliability_flags`."""
    return {
        float(e): evaluate_attacks(logits_fn, x, y, dataclasses.replace(threat, eps=float(e)), key, **kwargs).accs[
            "robust"
        ]
        for e in eps_values
    }


def _canonical(name: str) -> str:
    if name == "robust_acc":
        return "robust"
    if name == "clean_acc":
        return "clean"
    return name.removeprefix("robust_acc@")


def reliability_flags(
    accs: Mapping[str, float],
    eps_curve: Mapping[float, float] | None = None,
    *,
    zero_grad_frac: float | None = None,
    tol: float = 0.5,
    zero_grad_threshold: float = 0.01,
) -> list[str]:
    """Symptoms that a robust accuracy is not trustworthy (gradient masking or a broken attack).

    accs: robust accuracies in percent by attack name ("fgsm", "pgd", ...; the result-file names
      "robust_acc@fgsm", "clean_acc" are accepted too).
    tol: percentage points a comparison must exceed (default 0.5: one point in 200 is noise).
    Flags, each "possibly-unreliable: ...":
      - "<weaker> beats <stronger>": a weaker attack (by STRENGTH: fgsm < pgd < apgd-ce = apgd-dlr
        <= apgd-t) has robust accuracy lower than a stronger one by more than tol points;
      - "random-search beats <attack>": the gradient-free check has lower robust accuracy than
        every gradient attack run (by more than tol; <attack> is the strongest of them). It is
        compared with the best gradient attack, not each one: on low-dimensional inputs a
        margin-loss random search can legitimately beat CE-based FGSM/PGD on a few points;
      - "<attack> above clean accuracy": an attack's accuracy exceeds the clean accuracy;
      - eps_curve {eps: robust accuracy}: robust accuracy rises (by more than tol) from one eps to
        a larger one;
      - zero_grad_frac: at least zero_grad_threshold of the points have an exactly zero input
        gradient.
    """
    a = {_canonical(k): float(v) for k, v in accs.items()}
    flags = []
    ranked = [k for k in a if k in STRENGTH]
    for weak, strong in itertools.permutations(ranked, 2):
        if STRENGTH[weak] < STRENGTH[strong] and a[weak] < a[strong] - tol:
            flags.append(f"possibly-unreliable: {weak} beats {strong} ({a[weak]:.2f}% < {a[strong]:.2f}%)")
    if ranked:
        best = min(ranked, key=lambda k: (a[k], -STRENGTH[k]))
        for free in GRADIENT_FREE:
            if free in a and a[free] < a[best] - tol:
                flags.append(
                    f"possibly-unreliable: {free} beats {best}, the strongest gradient "
                    f"attack ({a[free]:.2f}% < {a[best]:.2f}%)"
                )
    if "clean" in a:
        for k, v in a.items():
            if k != "clean" and v > a["clean"] + tol:
                flags.append(f"possibly-unreliable: {k} above clean accuracy ({v:.2f}% > {a['clean']:.2f}%)")
    if eps_curve:
        pts = sorted((float(e), float(v)) for e, v in eps_curve.items())
        for (e0, v0), (e1, v1) in zip(pts, pts[1:]):
            if v1 > v0 + tol:
                flags.append(
                    f"possibly-unreliable: robust accuracy rises with eps "
                    f"({v0:.2f}% at eps={e0:g} -> {v1:.2f}% at eps={e1:g})"
                )
    if zero_grad_frac is not None and zero_grad_frac >= zero_grad_threshold:
        flags.append(
            f"possibly-unreliable: zero input gradient at {100 * zero_grad_frac:.1f}% of points (gradient masking)"
        )
    return flags
