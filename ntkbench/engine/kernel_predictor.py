"""Kernel regression with the infinite-width kernel of an architecture, as a predictor.

Shared by the kernel methods (`ntk-mlp`, `nngp-cnn`, ...) and the tasks' NTK views, so "the
infinite-width prediction of the same architecture" is computed one way everywhere: through
`ntkbench.kernels.fit_kernel_regression`. Runs eagerly: kernels are evaluated block by block
(bounded memory), which a conv kernel needs at these sizes, and past the size where the n × n Gram
fits in memory the fit switches to matrix-free CG.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from ntkbench.kernels import fit_kernel_regression, gram, kernel_fn, krr_solve
from ntkbench.kernels import solve as kernel_solve
from ntkbench.models import Arch

if TYPE_CHECKING:
    from ntkbench.registry import MethodSpec

# How the predictor solves when the Gram does not fit (solver "cg"), measured at n = 60 000 on
# Fashion-MNIST (benchmarks/RESULTS-kernel-scale.md): a rank-3000 Nyström preconditioner (n · m · 8
# bytes) brings CG to a relative residual of 1e-3 in ~40 iterations; float32 CG stalls near 2e-4
# there, so a tighter tolerance only spends iterations. Gram blocks are cached up to half the
# memory available at the fit, the share the dense-or-CG choice allows a fit (each cached block is
# one less kernel evaluation per iteration; at n = 60 000 the whole half Gram is 7.4 GB).
CG_OPTIONS = {"centres": 3000, "tol": 1e-3, "max_iters": 300}
CG_CACHE_SHARE = 0.5


def centred_one_hot(y: ArrayLike, num_classes: int) -> np.ndarray:
    """Regression targets: one-hot minus 1/C (zero mean per example)."""
    return np.eye(num_classes, dtype=np.float32)[np.asarray(y)] - 1.0 / num_classes


def krr_predictor(
    arch: Arch,
    kind: str,
    x: ArrayLike,
    y: ArrayLike,
    num_classes: int,
    *,
    ridge: float = 1e-4,
    return_gram: bool = False,
    solver: str = "auto",
    **solve_options: Any,
) -> Any:
    """Fit KRR on (x, y) with the `kind` ("ntk"/"nngp") kernel of `arch`; returns the predictor
    x_new -> (n_new, C) scores (and the training Gram when `return_gram`). Ridge is relative to
    the mean diagonal of the Gram (see `ntkbench.kernels.krr_fit_predict`).

    The fit is `ntkbench.kernels.fit_kernel_regression` (solver "auto": the dense Cholesky solve
    while its n² memory fits, else matrix-free CG with `CG_OPTIONS` and a Gram-block cache of
    `CG_CACHE_SHARE` of the available memory; `solve_options` go to it and override those). The
    predictor is the returned `KernelRegression` (callable; `.info` says which solver ran, its
    iterations, residual and Nyström rank). `return_gram` needs the Gram, so it always solves dense."""
    x = np.asarray(x)
    solve_options = {**CG_OPTIONS, "cache_bytes": int(CG_CACHE_SHARE * kernel_solve.available_bytes()), **solve_options}
    k = kernel_fn(arch, x.shape[1:], kind)
    fit = fit_kernel_regression(
        k,
        x,
        centred_one_hot(y, num_classes),
        ridge=ridge,
        diag_reg="relative",
        solver=solver,
        keep_gram=return_gram,
        **solve_options,
    )
    return (fit, fit.gram) if return_gram else fit


def krr_on_subsets(
    arch: Arch,
    kind: str,
    x_pool: ArrayLike,
    y_pool: np.ndarray,
    subsets: Sequence[np.ndarray],
    x_test: ArrayLike,
    num_classes: int,
    *,
    ridge: float = 1e-4,
) -> Iterator[tuple[np.ndarray, Any]]:
    """KRR on each of several subsets of one pool of training examples: per subset, the test
    scores (n_test, C) and the subset's training Gram.

    A learning curve's subsets overlap (at the grid's top they are the whole pool), so the kernel
    is evaluated once on their union, and the test points once against it, instead of once per
    subset; each subset's Gram and test block are then rows and columns of those, in the
    subset's own order, and each fit is the dense Cholesky solve `krr_predictor` makes. When the
    union's Gram does not fit in memory (`kernels.solve` budget), each subset is fitted on its own
    with `krr_predictor`."""
    x_pool, x_test = np.asarray(x_pool), np.asarray(x_test)
    subsets = [np.asarray(s) for s in subsets]
    union = np.unique(np.concatenate(subsets))
    k = kernel_fn(arch, x_pool.shape[1:], kind)
    need = kernel_solve.dense_bytes(len(union), 0) + 4 * len(union) * len(x_test)
    if need > kernel_solve.BUDGET_FRACTION * kernel_solve.available_bytes():
        for idx in subsets:
            fit, k_tt = krr_predictor(arch, kind, x_pool[idx], y_pool[idx], num_classes, ridge=ridge, return_gram=True)
            yield np.asarray(fit(x_test)), k_tt
        return
    k_uu = gram(k, x_pool[union])
    k_tu = gram(k, x_test, x_pool[union])
    for idx in subsets:
        at = np.searchsorted(union, idx)
        k_tt = k_uu[np.ix_(at, at)]
        alpha = krr_solve(jnp.asarray(k_tt, jnp.float32), centred_one_hot(y_pool[idx], num_classes), ridge=ridge)
        yield np.asarray(jnp.asarray(k_tu[:, at]) @ alpha), k_tt


def arch_of(spec: MethodSpec, params: dict, num_classes: int) -> Arch | None:
    """The architecture a finite method trains, from its `arch=` hook and its params (or None)."""
    fn: Callable | None = spec.extras.get("arch")
    if fn is None:
        return None
    names = [p.name for p in inspect.signature(fn).parameters.values() if p.kind is p.KEYWORD_ONLY]
    return fn(num_classes, **{n: params[n] for n in names})
