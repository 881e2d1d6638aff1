"""Per-point attack losses on logits (B, C) and integer labels (B,). Larger = more adversarial."""

from __future__ import annotations

import jax
import jax.numpy as jnp

_DLR_EPS = 1e-12


def cross_entropy(logits, y):
    """−log softmax(logits)[y], per point."""
    logp = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
    return -jnp.take_along_axis(logp, y[:, None], axis=-1)[:, 0]


def _label_logit(z, y):
    return jnp.take_along_axis(z, y[:, None], axis=-1)[:, 0]


def margin(logits, y):
    """z_y − max_{j≠y} z_j per point: negative exactly when the point is misclassified
    (ties count as not misclassified)."""
    z = logits.astype(jnp.float32)
    other = jnp.where(jax.nn.one_hot(y, z.shape[-1], dtype=bool), -jnp.inf, z)
    return _label_logit(z, y) - jnp.max(other, axis=-1)


def dlr(logits, y):
    """Difference of Logits Ratio (Croce & Hein 2020), per point:

        DLR(z, y) = −(z_y − max_{j≠y} z_j) / (z_π1 − z_π3)

    with z_π1 ≥ z_π2 ≥ z_π3 ≥ … the sorted logits. Invariant to shifting and positive scaling of
    the logits. Needs at least 3 classes.
    """
    z = logits.astype(jnp.float32)
    if z.shape[-1] < 3:
        raise ValueError(f"the DLR loss needs at least 3 classes, got {z.shape[-1]}")
    zs = jnp.sort(z, axis=-1)
    return -margin(z, y) / (zs[:, -1] - zs[:, -3] + _DLR_EPS)


def dlr_targeted(logits, y, target):
    """Targeted DLR (Croce & Hein 2020), per point:

        DLR_t(z, y, t) = −(z_y − z_t) / (z_π1 − (z_π3 + z_π4) / 2)

    Needs at least 4 classes.
    """
    z = logits.astype(jnp.float32)
    if z.shape[-1] < 4:
        raise ValueError(f"the targeted DLR loss needs at least 4 classes, got {z.shape[-1]}")
    zs = jnp.sort(z, axis=-1)
    num = _label_logit(z, y) - _label_logit(z, target)
    return -num / (zs[:, -1] - 0.5 * (zs[:, -3] + zs[:, -4]) + _DLR_EPS)
