"""Kernel regression from a kernel function: the one entry point every caller fits through.

    fit_kernel_regression(k, x_train, y_train, *, ridge, ...) -> KernelRegression
    KernelRegression.predict(x_new) -> (m, C) = K(x_new, x_train) α

α = (K + λI)⁻¹ Y with K = k(x_train, x_train); λ = ridge · mean(diag K) (diag_reg="relative",
exactly `regression._ridge`) or λ = ridge ("absolute"). Everything is float32.

Solvers
  "dense": the Gram (`gram`, blocked) and a Cholesky solve (`krr_solve`) — the computation
           ntkbench has always done, bit for bit, so committed results stay reproducible.
  "cg":    never holds the n × n Gram. Batched preconditioned CG on (K + λI) α = Y, each
           iteration one blocked symmetric matvec recomputed from the kernel (about half a Gram
           of kernel work: the iteration count is what the time is), preconditioned with a
           rank-m Nyström approximation from m sampled columns (`iterative.nystrom`). Its
           kernel blocks use `k.closed_form` when k has one (`closed_form.fc_relu`, a ReLU MLP).
  "auto":  "dense" when its peak fits in max_bytes, else "cg".

Memory bounds in bytes (s = 4, float32; B = b1 · b2 · bytes_per_pair, one kernel block
evaluation, b1, b2 ≤ 1024 chosen by `block_bytes` as `gram` chooses them):
  dense fit  3 · n² · s + B              gram's result and its symmetrised copy, then K, K + λI
                                         and the Cholesky factor — three n × n at any time
  cg fit     max(setup, solve), the cache filled after the setup so the two never coexist:
             setup = 2 · n · m · s + 32 · m² + 128 MiB + B
                                         K(X, centres) and U of the preconditioner, its float64
                                         host work (m × m matrices, row blocks), one kernel block
             solve = n · m · s + 8 · n · C · s + B + (1 + cached) · b² · s
                                         U; α, Y and the CG vectors; one kernel block and its
                                         (b, b) value; the Gram blocks kept between iterations
                                         (cache_bytes, 0 by default; `cg_cache_bytes` sizes it
                                         for a budget: the bounded-memory mode)
  predict    B + 2 · bm · n · s          one (bm, bn) kernel block; a (bm, n) strip of K(x_new,
                                         x_train) laid out for one product with α; the test rows
                                         are streamed bm at a time (2 · bm · n · s ≤ block_bytes)
plus the inputs themselves (n · d · s, padded to whole blocks). `KernelRegression.info.memory_bound`
records the fit's bound.
"""

from __future__ import annotations

import dataclasses
import os
import time
import warnings
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from ntkbench.kernels.infinite import DEFAULT_MAX_BYTES, _block_sizes, gram
from ntkbench.kernels.iterative import (
    batched_pcg,
    kernel_diagonal,
    make_matvec,
    nystrom,
    nystrom_preconditioner,
    pad_blocks,
    pad_zeros,
)
from ntkbench.kernels.regression import DIAG_REGS, krr_solve

SOLVERS = ("auto", "dense", "cg")
ITEMSIZE = 4  # float32
BUDGET_FRACTION = 0.5  # default max_bytes: this share of the memory available now
DEFAULT_CENTRES = 1000


def available_bytes() -> int:
    """Memory available to this process now (psutil when installed, else free physical pages)."""
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


def predict_block(n: int, per_pair: int, block_bytes: int) -> tuple[int, int]:
    """(bm, bn) of `KernelRegression.predict`: gram's block for a large test set, bm lowered until
    the (bm, n) strip and its laid-out copy (2 · bm · n · 4 bytes) fit in block_bytes."""
    bm, bn = _block_sizes(1 << 40, n, per_pair, block_bytes, None)
    return max(1, min(bm, block_bytes // (2 * n * ITEMSIZE))), bn


def dense_bytes(n: int, block: int) -> int:
    """Peak of the dense fit: three n × n float32 arrays at a time, plus one kernel block."""
    return 3 * n * n * ITEMSIZE + block


def cg_setup_bytes(n: int, m: int, block: int) -> int:
    """The CG fit's first stage, the Nyström setup: K(X, centres) and U (n × m each), the float64
    host work (four m × m, two 64 MiB row blocks), one kernel block."""
    return 2 * n * m * ITEMSIZE + 4 * m * m * 8 + (128 << 20 if m else 0) + block


def cg_solve_bytes(n: int, c: int, m: int, b: int, block: int, cached: int = 0) -> int:
    """The CG fit's second stage: U, eight (n, C) vectors, one kernel block and its value, the cache."""
    return n * m * ITEMSIZE + 8 * n * c * ITEMSIZE + block + (1 + cached) * b * b * ITEMSIZE


def cg_bytes(n: int, c: int, m: int, b: int, block: int, cached: int = 0) -> int:
    """Bound of the CG fit: the larger of its two stages (the cache is filled after the setup)."""
    return max(cg_setup_bytes(n, m, block), cg_solve_bytes(n, c, m, b, block, cached))


def cg_cache_bytes(n: int, c: int, m: int, b: int, block: int, budget: int) -> int:
    """The largest Gram-block cache (bytes, whole (b, b) float32 blocks, at most the nb (nb + 1) / 2
    upper blocks) with which the CG fit's bound `cg_bytes` stays within budget; 0 if none fits.
    The bounded-memory mode: pass it as cache_bytes."""
    per_block = b * b * ITEMSIZE
    nb = -(-n // b)
    if cg_setup_bytes(n, m, block) > budget:
        return 0
    spare = budget - cg_solve_bytes(n, c, m, b, block)
    return max(0, min(spare // per_block, nb * (nb + 1) // 2)) * per_block


@dataclasses.dataclass(frozen=True)
class SolveInfo:
    """What a fit did. solver: "dense" or "cg" (auto resolved); lam: the absolute λ; block: the
    kernel block shape of the fit; memory_bound: bytes (module docstring); seconds: fit wall time.
    CG only: iterations, residual (final max relative residual of the CG recurrence, not
    recomputed), history (that residual per iteration), centres (indices of the Nyström
    centres), rank (of the preconditioner after dropping negligible eigenvalues), cached_blocks
    (Gram blocks held by the matvec instead of recomputed), cg_seconds (the iterations alone;
    seconds − cg_seconds is the setup: diag K, the cache, the Nyström preconditioner)."""

    solver: str
    lam: float
    block: tuple[int, int]
    memory_bound: int
    seconds: float
    iterations: int | None = None
    residual: float | None = None
    history: tuple[float, ...] = ()
    centres: np.ndarray | None = None
    rank: int | None = None
    cached_blocks: int = 0
    cg_seconds: float | None = None


class KernelRegression:
    """A fitted kernel regression: `alpha` (n, C) (or (n,) for 1-D targets), `x_train`, `k`,
    `info` (SolveInfo), `gram` (the training Gram when the fit kept it, else None) and `predict`.

    predict(x_new) streams K(x_new, x_train) in kernel blocks of one fixed shape (bm, bn): test
    rows bm at a time; for each, the ⌈n / bn⌉ blocks against the (padded) train set are evaluated
    by `k` itself, laid side by side as a (bm, n) strip and multiplied by α in one product. That
    is the computation ntkbench did before (`gram` blocks of the same shape, then one product per
    row), so dense predictions are bit for bit those of the committed results; a sum of per-block
    products would round differently. bm is the kernel block's row count, lowered until the strip
    and its blocks (2 · bm · n · 4 bytes) fit in block_bytes. Tails are padded (repeated rows),
    so whatever the size of x_new, predict runs the same three compiled programs (the kernel
    block, the layout, the product) after its first call; a call of fewer than bm rows still
    costs a full strip.
    """

    def __init__(
        self, k: Callable, x_train, alpha, info: SolveInfo, *, block_bytes: int = DEFAULT_MAX_BYTES, gram=None
    ):
        self.k, self.info = k, info
        self.gram: np.ndarray | None = gram  # the training Gram, when the fit was asked to keep it
        self.x_train = jnp.asarray(x_train)
        self.alpha = jnp.asarray(alpha)
        n = self.x_train.shape[0]
        self.block = predict_block(n, getattr(k, "bytes_per_pair", 32), block_bytes)
        # Train blocks as separate device arrays: indexing one stacked array would be an op per call.
        self._train_blocks = list(pad_blocks(self.x_train, self.block[1]))
        self._a2 = self.alpha.reshape(n, -1)
        # Layout and product are separate programs: fused with the kernel or with each other,
        # XLA may round differently from the eager product the results were computed with.
        self._layout = jax.jit(lambda blocks: jnp.concatenate(blocks, axis=1)[:, :n])
        self._product = jax.jit(jnp.matmul)

    def predict(self, x_new) -> jax.Array:
        """(m, C) scores K(x_new, x_train) α (or (m,) for 1-D targets).

        Padding, slicing and gathering the strips happen in numpy on the host: as eager jax ops
        each would compile per input size."""
        x_new = np.asarray(x_new)
        if tuple(x_new.shape[1:]) != tuple(self.x_train.shape[1:]):
            raise ValueError(f"predict: inputs of shape {tuple(x_new.shape[1:])}, trained on {self.x_train.shape[1:]}")
        m, bm = x_new.shape[0], self.block[0]
        if m == 0:
            return jnp.zeros((0,) + self.alpha.shape[1:], self.alpha.dtype)
        x_new = np.concatenate([x_new, np.repeat(x_new[-1:], (-m) % bm, axis=0)])
        strips = []
        for s in range(0, len(x_new), bm):
            xi = jax.device_put(x_new[s : s + bm])
            blocks = [self.k(xi, xj) for xj in self._train_blocks]
            strips.append(np.asarray(self._product(self._layout(blocks), self._a2)))
        return jax.device_put(np.concatenate(strips)[:m].reshape((m,) + self.alpha.shape[1:]))

    __call__ = predict

    def __repr__(self):
        i = self.info
        extra = f", {i.iterations} iterations, residual {i.residual:.2e}" if i.solver == "cg" else ""
        return f"KernelRegression({i.solver}, n={self.x_train.shape[0]}{extra})"


def _check(k, x_train, y_train, ridge, diag_reg, solver, tol, max_iters, centres, cache_bytes):
    """Every argument error before anything is compiled."""
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    if diag_reg not in DIAG_REGS:
        raise ValueError(f"diag_reg must be one of {DIAG_REGS}, got {diag_reg!r}")
    try:
        r = float(ridge)
    except (TypeError, ValueError):
        r = float("nan")
    if not (np.isfinite(r) and r > 0):
        raise ValueError(f"ridge must be a finite number > 0, got {ridge!r}")
    if not 0 < tol < 1:
        raise ValueError(f"tol must be in (0, 1), got {tol!r}")
    if int(cache_bytes) < 0:
        raise ValueError(f"cache_bytes must be >= 0, got {cache_bytes!r}")
    if int(max_iters) < 1:
        raise ValueError(f"max_iters must be >= 1, got {max_iters!r}")
    if centres is not None and int(centres) < 0:
        raise ValueError(f"centres must be >= 0 (0: no preconditioner; None: the default), got {centres!r}")
    x_shape, y_shape = tuple(np.shape(x_train)), tuple(np.shape(y_train))
    if len(x_shape) < 2 or x_shape[0] == 0:
        raise ValueError(f"x_train must be (n, *input_shape) with n >= 1, got shape {x_shape}")
    want = getattr(k, "input_shape", None)
    if want is not None and x_shape[1:] != tuple(want):
        raise ValueError(f"x_train: kernel built for inputs {tuple(want)}, got batch {x_shape}")
    if len(y_shape) not in (1, 2) or y_shape[0] != x_shape[0] or 0 in y_shape:
        raise ValueError(f"y_train must be (n,) or (n, C) with n = {x_shape[0]} (x_train's rows), got {y_shape}")


def _pick(solver, n, block, max_bytes) -> str:
    if solver != "auto":
        return solver
    budget = int(max_bytes) if max_bytes is not None else int(BUDGET_FRACTION * available_bytes())
    return "dense" if dense_bytes(n, block) <= budget else "cg"


def _fit_dense(k, x, y, ridge, diag_reg, block_bytes):
    # Exactly the computation krr_predictor has always done (same blocks, same Cholesky).
    k_tt = jnp.asarray(gram(k, x, max_bytes=block_bytes), jnp.float32)
    alpha = krr_solve(k_tt, y, ridge=ridge, diag_reg=diag_reg)
    lam = ridge * float(jnp.mean(jnp.diagonal(k_tt))) if diag_reg == "relative" else float(ridge)
    return alpha, lam, k_tt


def _fit_cg(k, x, y, ridge, diag_reg, b, *, centres, cached, seed, tol, max_iters, block_bytes, log):
    # Thousands of (b, b) kernel blocks: evaluate them in closed form where the kernel has one (a
    # ReLU MLP's: neural-tangents' values to float32 rounding, ~2.4 × faster on CPU). The
    # predictions still go through `k` itself.
    k = getattr(k, "closed_form", None) or k
    n = x.shape[0]
    xb = pad_blocks(x, b)
    rows = xb.shape[0] * b
    diag = jax.jit(lambda z: kernel_diagonal(k, z))(xb)[:n]
    lam = ridge * float(jnp.mean(diag)) if diag_reg == "relative" else float(ridge)
    precond, centres_idx, rank = None, None, None
    if centres > 0:  # before the cache: its setup peak (K(X, centres), host work) and the cache never coexist
        ny = nystrom(k, x, min(centres, n), rows=rows, seed=seed, max_bytes=block_bytes)
        precond = nystrom_preconditioner(ny, lam)
        centres_idx, rank = ny.centres, int(ny.eigs.size)
        del ny  # the host copy of U: the preconditioner holds its own on the device
    kv, fill = make_matvec(k, xb.shape[0], n, cached)
    cache = jax.block_until_ready(fill(xb))  # the cache's kernel work is setup, not CG iterations
    lam32 = jnp.float32(lam)
    mask = (jnp.arange(rows) < n)[:, None]

    def matvec(v):
        return kv(xb, cache, v) + lam32 * jnp.where(mask, v, 0.0)

    t0 = time.perf_counter()
    res = batched_pcg(matvec, pad_zeros(y, rows), precond=precond, tol=tol, max_iters=max_iters, log=log)
    return res.x[:n], lam, res, (centres_idx, rank), int(cache.shape[0]), time.perf_counter() - t0


def fit_kernel_regression(
    k: Callable,
    x_train,
    y_train,
    *,
    ridge: float,
    diag_reg: str = "relative",
    solver: str = "auto",
    max_bytes: int | None = None,
    block_bytes: int = DEFAULT_MAX_BYTES,
    centres: int | None = None,
    seed: int = 0,
    tol: float = 1e-5,
    max_iters: int = 1000,
    cache_bytes: int = 0,
    log: Callable[[str], None] | None = None,
    keep_gram: bool = False,
) -> KernelRegression:
    """Kernel ridge regression α = (K + λI)⁻¹ y_train with K = k(x_train, x_train).

    k: a kernel `k(x1, x2) -> (n1, n2)` (a `KernelFn`; its `bytes_per_pair` sizes the blocks, its
    `input_shape` checks x_train). y_train: (n,) or (n, C), cast to float32.
    ridge > 0: λ = ridge · mean(diag K) for diag_reg="relative", λ = ridge for "absolute".
    solver: "dense" | "cg" | "auto" — auto takes "dense" when
        3 · n² · 4 + b1 · b2 · bytes_per_pair ≤ max_bytes
    (its peak, see `dense_bytes`), else "cg". max_bytes defaults to BUDGET_FRACTION (half) of the
    memory available now. block_bytes bounds one kernel block evaluation (as `gram`'s max_bytes).
    CG: centres = m sampled columns for the Nyström preconditioner (default min(n, 1000);
    0: no preconditioner), drawn with `seed`; stops at relative residual tol (every column) or
    max_iters (then a RuntimeWarning: α is the last iterate); `log` gets one line per iteration.
    cache_bytes: memory for Gram blocks the matvec keeps instead of recomputing each iteration
    (cache_bytes // (b² · 4) of the nb (nb + 1) / 2 upper blocks; 0: none, the bounded-memory
    default).
    keep_gram (dense only): keep the training Gram as `.gram` (numpy, n × n).
    Raises ValueError naming the argument for a bad one, before any kernel is compiled.
    """
    _check(k, x_train, y_train, ridge, diag_reg, solver, tol, max_iters, centres, cache_bytes)
    if keep_gram and solver == "cg":
        raise ValueError("keep_gram needs the Gram: use solver='dense' (or 'auto', which then runs dense)")
    t0 = time.perf_counter()
    x = np.asarray(x_train)
    y = np.asarray(y_train, np.float32)
    y2 = y.reshape(len(y), -1)
    n, c = y2.shape
    per_pair = getattr(k, "bytes_per_pair", 32)
    b1, b2 = _block_sizes(n, n, per_pair, block_bytes, None)
    b = min(b1, b2)  # gram's symmetric block; the CG matvec uses the same (b, b)
    block = b * b * per_pair
    m = min(n, DEFAULT_CENTRES if centres is None else int(centres))
    chosen = "dense" if keep_gram else _pick(solver, n, block, max_bytes)
    if chosen == "dense":
        alpha, lam, k_tt = _fit_dense(k, x, y, ridge, diag_reg, block_bytes)
        info = SolveInfo("dense", lam, (b, b), dense_bytes(n, block), time.perf_counter() - t0)
        return KernelRegression(
            k, x, alpha, info, block_bytes=block_bytes, gram=np.asarray(k_tt) if keep_gram else None
        )
    alpha2, lam, res, (centres_idx, rank), cached, cg_seconds = _fit_cg(
        k,
        x,
        y2,
        ridge,
        diag_reg,
        b,
        centres=m,
        cached=cache_bytes // (b * b * ITEMSIZE),
        seed=seed,
        tol=tol,
        max_iters=max_iters,
        block_bytes=block_bytes,
        log=log,
    )
    if not res.residual <= tol:  # also NaN
        warnings.warn(
            f"CG stopped after {res.iterations} iterations at relative residual {res.residual:.2e} > tol {tol:g}: "
            "raise max_iters or centres (or the ridge)",
            RuntimeWarning,
            stacklevel=2,
        )
    info = SolveInfo(
        "cg",
        lam,
        (b, b),
        cg_bytes(n, c, m, b, block, cached),
        time.perf_counter() - t0,
        iterations=res.iterations,
        residual=res.residual,
        history=res.history,
        centres=centres_idx,
        rank=rank,
        cached_blocks=cached,
        cg_seconds=cg_seconds,
    )
    return KernelRegression(k, x, alpha2.reshape(y.shape), info, block_bytes=block_bytes)
