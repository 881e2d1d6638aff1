"""Adversarial attacks in pure JAX: batched, jittable, explicit PRNG keys, any input shape (B, ...).

    threat = ThreatModel("linf", eps=0.1)               # valid range [0, 1] by default
    x_adv = pgd(logits_fn, x, y, threat, key)            # logits_fn(x) -> (B, C)
    report = evaluate_attacks(logits_fn, x, y, threat, key)
    report.accs     # {"clean": .., "fgsm": .., "pgd": .., "apgd-ce": .., "apgd-t": .., "robust": ..}
    report.flags    # ["possibly-unreliable: fgsm beats pgd (..)", ...]

logits_fn is any function of the inputs; pass `jax.tree_util.Partial(apply, params)` or
`nnx_logits_fn(model)` to keep params as traced arguments (no recompilation per model).
Protocol: the `adversarial` task's, in `ntkbench/tasks/adversarial/__init__.py`.
"""

from ntkbench.attacks._common import as_logits_fn, nnx_logits_fn
from ntkbench.attacks.apgd import apgd, apgd_t, checkpoints
from ntkbench.attacks.evaluate import (
    ATTACKS,
    DEFAULT_ATTACKS,
    STRENGTH,
    AttackBoundsError,
    AttackReport,
    eps_sweep,
    evaluate_attacks,
    reliability_flags,
)
from ntkbench.attacks.gradient import fgsm, pgd
from ntkbench.attacks.losses import cross_entropy, dlr, dlr_targeted, margin
from ntkbench.attacks.random_search import random_search
from ntkbench.attacks.threat import ThreatModel, l2_norm, linf_norm

__all__ = [
    "ThreatModel",
    "fgsm",
    "pgd",
    "apgd",
    "apgd_t",
    "random_search",
    "evaluate_attacks",
    "eps_sweep",
    "reliability_flags",
    "AttackReport",
    "AttackBoundsError",
    "ATTACKS",
    "DEFAULT_ATTACKS",
    "STRENGTH",
    "cross_entropy",
    "dlr",
    "dlr_targeted",
    "margin",
    "checkpoints",
    "as_logits_fn",
    "nnx_logits_fn",
    "linf_norm",
    "l2_norm",
]
