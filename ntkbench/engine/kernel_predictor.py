"""Kernel regression with the infinite-width kernel of an architecture, as a predictor.

Shared by the kernel methods (`ntk-mlp`, `nngp-cnn`, ...) and the tasks' NTK views, so "the
infinite-width prediction of the same architecture" is computed one way everywhere. Runs eagerly:
Gram matrices are built block by block (`ntkbench.kernels.gram`, bounded memory), which a conv
kernel needs at these sizes.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from ntkbench.models import Arch


def centred_one_hot(y, num_classes: int) -> np.ndarray:
    """Regression targets: one-hot minus 1/C (zero mean per example)."""
    return np.eye(num_classes, dtype=np.float32)[np.asarray(y)] - 1.0 / num_classes


def krr_predictor(arch: Arch, kind: str, x, y, num_classes: int, *, ridge: float = 1e-4, return_gram: bool = False):
    """Fit KRR on (x, y) with the `kind` ("ntk"/"nngp") kernel of `arch`; returns the predictor
    x_new -> (n_new, C) scores (and the training Gram when `return_gram`). Ridge is relative to
    the mean diagonal of the Gram (see `ntkbench.kernels.krr_fit_predict`)."""
    from ntkbench.kernels import gram, kernel_fn, krr_solve

    x = np.asarray(x)
    k = kernel_fn(arch, x.shape[1:], kind)
    k_tt = jnp.asarray(gram(k, x), jnp.float32)
    alpha = krr_solve(k_tt, centred_one_hot(y, num_classes), ridge=ridge, diag_reg="relative")

    def predict(x_new) -> jax.Array:
        return jnp.asarray(gram(k, np.asarray(x_new), x)) @ alpha

    return (predict, np.asarray(k_tt)) if return_gram else predict


def arch_of(spec, params: dict, num_classes: int) -> Arch | None:
    """The architecture a finite method trains, from its `arch=` hook and its params (or None)."""
    import inspect

    fn: Callable | None = spec.extras.get("arch")
    if fn is None:
        return None
    names = [p.name for p in inspect.signature(fn).parameters.values() if p.kind is p.KEYWORD_ONLY]
    return fn(num_classes, **{n: params[n] for n in names})
