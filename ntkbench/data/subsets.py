"""Seeded, class-balanced subsets, as pure JAX so they run inside a vmapped training program."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def class_balanced_indices(key: jax.Array, labels: np.ndarray, n: int, num_classes: int) -> jax.Array:
    """Indices of n examples, ⌊n/C⌋ or ⌈n/C⌉ per class (the first n mod C classes get one more),
    chosen uniformly without replacement within each class. Pure and vmappable over `key`.

    Ranks each example by a random key within its class; an example is kept when its rank is below
    its class quota. Raises if a class has fewer examples than its quota.
    """
    counts = np.bincount(np.asarray(labels), minlength=num_classes)  # labels are concrete data
    labels = jnp.asarray(labels)
    quota = np.full(num_classes, n // num_classes) + (np.arange(num_classes) < n % num_classes)
    short = np.nonzero(counts < quota)[0]
    if short.size:
        c = int(short[0])
        raise ValueError(f"class-balanced subset of n={n}: class {c} has {counts[c]} examples, needs {quota[c]}")
    # Random order, then a stable sort by label: rank within class = position - class start.
    order = jax.random.permutation(key, labels.shape[0])
    by_class = order[jnp.argsort(labels[order], stable=True)]
    starts = jnp.asarray(np.concatenate([[0], np.cumsum(counts)[:-1]]))
    picks = [by_class[starts[c] + jnp.arange(int(quota[c]))] for c in range(num_classes) if quota[c]]
    return jnp.concatenate(picks)
