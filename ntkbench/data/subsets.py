"""Seeded, class-balanced subsets, as pure JAX so they run inside a vmapped training program."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def class_balanced_indices(key: jax.Array, labels: np.ndarray | jax.Array, n: int, num_classes: int) -> jax.Array:
    """Indices of n examples, as class-balanced as the data allow, chosen uniformly without
    replacement within each class. Pure and vmappable over `key`.

    Quotas are water-filled: every class gets ⌊n/C⌋ or ⌈n/C⌉ (the lower class ids get the extra
    one); a class with too few examples gives all it has and the rest is spread over the others.
    Ranks each example by a random key within its class; an example is kept when its rank is below
    its class quota.
    """
    counts = np.bincount(np.asarray(labels), minlength=num_classes)  # labels are concrete data
    if not 0 < n <= counts.sum():
        raise ValueError(f"class-balanced subset: n={n} is outside 1..{counts.sum()} (the split size)")
    quota = balanced_quota(counts, n)
    starts = _class_starts(counts)
    positions = np.concatenate([starts[c] + np.arange(q) for c, q in enumerate(quota) if q])
    by_class = _ranked(key, jnp.asarray(labels))
    if isinstance(by_class, jax.core.Tracer):  # inside a program
        return by_class[positions]
    return jnp.asarray(np.asarray(by_class)[positions])


# One program per number of labels, whatever n: called eagerly (the NTK views, the subsets of a
# stream), the ranking's ops would otherwise dispatch, and compile, one by one, and a program
# per n would compile once per point of a learning curve.
@jax.jit
def _ranked(key: jax.Array, labels: jax.Array) -> jax.Array:
    """All indices in a random order, then stably sorted by label: rank within class = position
    − class start."""
    order = jax.random.permutation(key, labels.shape[0])
    return order[jnp.argsort(labels[order], stable=True)]


def _class_starts(counts: np.ndarray) -> np.ndarray:
    """Where each class begins in the label-sorted order."""
    return np.concatenate([[0], np.cumsum(counts)[:-1]])


def padded_class_balanced_indices(
    key: jax.Array, labels: np.ndarray, quota: jax.Array, max_quota: np.ndarray, size: int
) -> jax.Array:
    """`size` indices whose first sum(quota) are exactly `class_balanced_indices(key, labels, n,
    C)` for the n whose `balanced_quota` is `quota` (same examples, same order); the rest is
    padding. `quota` may be traced, so one compiled program serves every n of a learning curve;
    `max_quota` (static) bounds it per class, `size` (static) is the largest n."""
    counts = np.bincount(np.asarray(labels), minlength=len(max_quota))
    by_class, starts = _ranked(key, jnp.asarray(labels)), _class_starts(counts)
    picks, keep = [], []
    for c in range(len(max_quota)):
        if max_quota[c]:
            rank = jnp.arange(int(max_quota[c]))
            picks.append(by_class[starts[c] + rank])
            keep.append(rank < quota[c])
    picks_all, keep_all = jnp.concatenate(picks), jnp.concatenate(keep)
    first = jnp.argsort(~keep_all, stable=True)  # the kept ones first, in class order
    return picks_all[first][:size]


def class_balanced_subset(key: jax.Array, x, y, per_class: int, num_classes: int):
    """(x[idx], y[idx]) for idx = class_balanced_indices(key, y, per_class · C, C): a
    class-balanced random real subset. The distillation task's `gain_over_random` baseline and
    the reference `random` distillation method both draw with this function."""
    idx = class_balanced_indices(key, y, per_class * num_classes, num_classes)
    return x[idx], y[idx]


def balanced_quota(counts: np.ndarray, n: int) -> np.ndarray:
    """Per-class sample counts summing to n, as equal as `counts` allows (water-filling)."""
    quota = np.zeros_like(counts)
    open_classes = list(np.argsort(counts, kind="stable"))  # smallest classes settle first
    remaining = n
    while open_classes:
        share, extra = divmod(remaining, len(open_classes))
        short = [c for c in open_classes if counts[c] < share + (1 if extra else 0)]
        if not short:
            for i, c in enumerate(sorted(open_classes)):
                quota[c] = share + (i < extra)
            break
        for c in short:  # give these classes everything they have, then re-split the rest
            quota[c] = counts[c]
            remaining -= counts[c]
            open_classes.remove(c)
    return quota
