"""Matrix-free kernel regression pieces: a blocked symmetric Gram matvec, a randomized Nyström
preconditioner and a batched preconditioned conjugate gradient (CG).

Nothing here holds the n × n Gram. Inputs are padded to nb blocks of b rows (the last row
repeated, as `gram` does) and every kernel call sees one (b, b) block shape, so the whole matvec
is one compiled program. Vectors are (nb · b, C) with zero rows for the padding: the kernel of a
padded row multiplies a zero coefficient, and its own output row is masked, so padding never
reaches a real entry.

`ntkbench.kernels.solve` is the user of this module (its `fit_kernel_regression`, solver="cg").
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from ntkbench.kernels.infinite import gram


def pad_blocks(x, b: int) -> jax.Array:
    """(n, ...) -> (nb, b, ...), the tail padded by repeating the last row (a valid kernel input)."""
    x = jnp.asarray(x)
    r = (-x.shape[0]) % b
    if r:
        x = jnp.concatenate([x, jnp.repeat(x[-1:], r, axis=0)], axis=0)
    return x.reshape((-1, b) + x.shape[1:])


def pad_zeros(v, rows: int) -> jax.Array:
    """(n, C) -> (rows, C) with zero rows appended (coefficients of the padded inputs)."""
    v = jnp.asarray(v)
    return jnp.concatenate([v, jnp.zeros((rows - v.shape[0],) + v.shape[1:], v.dtype)], axis=0)


def kernel_diagonal(k: Callable, xb) -> jax.Array:
    """diag K over the padded rows, (nb · b,): the diagonal of each (b, b) diagonal block.

    Costs n · b kernel entries (1/nb of a matvec) and reuses the matvec's block shape; it is what
    the relative ridge needs without the Gram.
    """

    def step(_, xi):
        return None, jnp.diagonal(k(xi, xi))

    _, d = jax.lax.scan(step, None, xb)
    return d.reshape(-1)


def make_matvec(k: Callable, nb: int, n: int, cached: int = 0) -> tuple[Callable, Callable]:
    """(matvec, fill): jitted `matvec(xb, cache, v) -> K v` for xb (nb, b, ...), v (nb · b, C) with
    real rows < n, and `fill(xb) -> cache`, the first `cached` blocks of the matvec's order
    ((cached, b, b) float32; an empty array when cached = 0).

    Symmetry halves the kernel work: each block K_ij with i ≤ j is evaluated once and used for
    both out_i += K_ij v_j and out_j += K_ijᵀ v_i. The kernel evaluation is the whole cost (the
    block product is b² · C flops against the kernel's b² · d at least), so a matvec costs
    nb (nb + 1) / 2 block evaluations, about half a Gram — less the cached blocks, which are read
    instead (cached · b² · 4 bytes held between iterations).
    """
    ii, jj = np.triu_indices(nb)
    cached = min(int(cached), len(ii))
    hot = (jnp.asarray(ii[:cached], jnp.int32), jnp.asarray(jj[:cached], jnp.int32))
    cold = (jnp.asarray(ii[cached:], jnp.int32), jnp.asarray(jj[cached:], jnp.int32))

    def add_block(out, vt, i, j, kij):
        # Vectors laid out transposed, (C, nb, b): both products are then row-major GEMMs with the
        # block as the right operand, (C, b) · K_ijᵀ and (C, b) · K_ij, and neither transposes the
        # (b, b) block. `kij.T @ v` materialised that transpose: 2.3 × slower per cached block on
        # this 2-core CPU (2.06 vs 0.90 GB/s of blocks; benchmarks/RESULTS-kernel-scale.md).
        y = jax.lax.dot_general(vt[:, j], kij, (((1,), (1,)), ((), ())))  # (K_ij v_j)ᵀ
        z = jax.lax.dot_general(vt[:, i], kij, (((1,), (0,)), ((), ())))  # (K_ijᵀ v_i)ᵀ
        # On a diagonal block the transpose term would count it twice.
        return out.at[:, i].add(y).at[:, j].add(jnp.where(i == j, jnp.zeros_like(z), z))

    def matvec(xb, cache, v):
        b = xb.shape[1]
        vt = v.T.reshape(-1, nb, b)
        out = jnp.zeros_like(vt)
        if cached:
            out, _ = jax.lax.scan(lambda o, t: (add_block(o, vt, *t), None), out, (*hot, cache))
        if cold[0].size:
            step = lambda o, ij: (add_block(o, vt, ij[0], ij[1], k(xb[ij[0]], xb[ij[1]]).astype(v.dtype)), None)
            out, _ = jax.lax.scan(step, out, cold)
        mask = (jnp.arange(nb * b) < n)[:, None]
        return jnp.where(mask, out.reshape(out.shape[0], nb * b).T, 0.0)

    def fill(xb):
        if not cached:
            return jnp.zeros((0, xb.shape[1], xb.shape[1]), jnp.float32)
        _, blocks = jax.lax.scan(lambda _, ij: (None, k(xb[ij[0]], xb[ij[1]]).astype(jnp.float32)), None, hot)
        return blocks

    return jax.jit(matvec), jax.jit(fill)


# ---------------------------------------------------------------------------------------------
# Nyström preconditioner (Frangella, Tropp & Udell 2021, with column sampling as in Falkon)


@dataclasses.dataclass(frozen=True)
class Nystrom:
    """Rank-r Nyström approximation K ≈ U diag(eigs) Uᵀ from m sampled columns (r ≤ m).

    u: (rows, r) float32 with orthonormal columns, zero past the n real rows (the CG vectors'
    padding); eigs: (r,) descending; centres: the m sampled row indices (sorted).
    """

    u: np.ndarray
    eigs: np.ndarray
    centres: np.ndarray


def nystrom(
    k: Callable, x, m: int, *, rows: int | None = None, seed: int = 0, max_bytes: int, rel_floor: float = 1e-6
) -> Nystrom:
    """Nyström approximation of K(x, x) from m uniformly sampled columns (without replacement).

    K̂ = K_nm K_mm⁺ K_mn = B Bᵀ with B = K_nm Q D^{-1/2} (K_mm = Q D Qᵀ, eigenvalues below
    rel_floor · max dropped: float32 kernel entries carry no information below ~1e-7 relative).
    Its eigenpairs come from the small matrix BᵀB = W S Wᵀ: K̂ = U S Uᵀ with U = B W S^{-1/2}.
    The small factorisations run in float64 on the host (numpy) so the rounding of the n × m
    products stays far below the ridge; U is kept in float32.
    Memory: K_nm (n · m · 4 bytes) and U (rows · r · 4; rows ≥ n, default n), K_nm row block by row
    block in float64 (64 MiB; never n × m in float64). Cost: n · m kernel entries (m/n of a Gram), O(n m²) flops.
    """
    n = x.shape[0]
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(n, size=min(m, n), replace=False))
    k_nm = gram(k, x, np.asarray(x)[idx], max_bytes=max_bytes).astype(np.float32)  # (n, m)
    k_mm = np.asarray(k_nm[idx], np.float64)
    d, q = np.linalg.eigh(0.5 * (k_mm + k_mm.T))
    keep = d > rel_floor * max(d.max(), 0.0)
    t = q[:, keep] / np.sqrt(d[keep])  # (m, r0): B = K_nm t
    step = max(1, (64 << 20) // (8 * k_nm.shape[1]))  # row blocks of K_nm cast to float64: 64 MiB
    # BᵀB = tᵀ (K_nmᵀ K_nm) t: K_nmᵀ K_nm is one symmetric product (numpy takes aᵀa as a rank-k
    # update, n · m² flops), where forming B block by block cost n · m · r0 + n · r0² (twice).
    gram_nm = np.zeros((k_nm.shape[1], k_nm.shape[1]))
    for s in range(0, n, step):
        a = np.asarray(k_nm[s : s + step], np.float64)
        gram_nm += a.T @ a
    g = t.T @ gram_nm @ t
    s2, w = np.linalg.eigh(0.5 * (g + g.T))
    order = np.argsort(s2)[::-1]
    s2, w = s2[order], w[:, order]
    keep = s2 > rel_floor * max(s2[0], 0.0)
    proj = t @ (w[:, keep] / np.sqrt(s2[keep]))  # U = K_nm proj
    u = np.zeros((max(n, rows or n), proj.shape[1]), np.float32)
    for s in range(0, n, step):
        u[s : min(s + step, n)] = k_nm[s : s + step] @ proj
    return Nystrom(u=u, eigs=s2[keep], centres=idx)


def nystrom_preconditioner(ny: Nystrom, lam: float) -> Callable:
    """P⁻¹ r for P = U(Λ + λI)Uᵀ / (λ̂ + λ) + (I − UUᵀ), λ̂ the smallest kept eigenvalue.

    P⁻¹ = (λ̂ + λ) U (Λ + λI)⁻¹ Uᵀ + (I − UUᵀ) = I + U diag((λ̂ + λ)/(Λ + λ) − 1) Uᵀ: the top
    eigendirections of K + λI are scaled down to about λ̂ + λ, the rest left alone, so the
    preconditioned spectrum lies in [~1, (λ̂ + λ + ‖K − K̂‖)/λ] (Frangella et al., Prop. 5.3).
    Vectors have ny.u's rows (U is zero on padding rows, so padding stays zero).
    """
    u = jnp.asarray(ny.u)
    lam_hat = float(ny.eigs[-1])
    scale = jnp.asarray((lam_hat + lam) / (ny.eigs + lam) - 1.0, jnp.float32)
    return functools.partial(_apply_preconditioner, u, scale)


@jax.jit
def _apply_preconditioner(u, scale, r):
    # U is an argument, not a closure: a jitted closure over it would embed the (rows, r) matrix in
    # the program as a constant — copied at compile time, which cost ~5 GB of peak memory at
    # n = 60 000 (and would go into the persistent compile cache).
    return r + u @ (scale[:, None] * (u.T @ r))


# ---------------------------------------------------------------------------------------------
# Batched preconditioned CG


@dataclasses.dataclass(frozen=True)
class CGResult:
    """x: the solution (rows, C); iterations; residual: max over columns of the recurrence's
    ‖r_c‖/‖b_c‖ at the end; history: that maximum after each iteration."""

    x: jax.Array
    iterations: int
    residual: float
    history: tuple[float, ...]


@jax.jit
def _cg_step(x, r, p, ap, rz, active):
    # Columns that already converged take no step (their α/β would divide ~0 by ~0).
    pap = jnp.sum(p * ap, axis=0)
    step = jnp.where(active, rz / jnp.where(active, pap, 1.0), 0.0)
    return x + step * p, r - step * ap


@jax.jit
def _cg_direction(z, r, p, rz, active):
    rz_new = jnp.sum(r * z, axis=0)
    beta = jnp.where(active, rz_new / jnp.where(active, rz, 1.0), 0.0)
    return jnp.where(active, z + beta * p, p), jnp.where(active, rz_new, rz)


def batched_pcg(
    matvec: Callable,
    b,
    *,
    precond: Callable | None = None,
    tol: float,
    max_iters: int,
    log: Callable[[str], None] | None = None,
) -> CGResult:
    """Solve A X = B for the C columns of B at once, one matvec A P (n, C) per iteration.

    Each column runs its own CG recurrence (own step sizes) but all share the matvec, which is
    the whole cost of an iteration. Stops when every column has ‖r_c‖ ≤ tol · ‖b_c‖ (the
    recurrence's residual, not recomputed: that would cost one more matvec) or after max_iters.
    Starts from X = 0.
    """
    b = jnp.asarray(b)
    bnorm = jnp.linalg.norm(b, axis=0)
    bnorm = jnp.where(bnorm > 0, bnorm, 1.0)
    m = precond if precond is not None else (lambda r: r)
    x, r = jnp.zeros_like(b), b
    z = m(r)
    p, rz = z, jnp.sum(r * z, axis=0)
    res = jnp.linalg.norm(r, axis=0) / bnorm
    history: list[float] = []
    it = 0
    while it < max_iters and float(res.max()) > tol:
        active = res > tol
        ap = matvec(p)
        x, r = _cg_step(x, r, p, ap, rz, active)
        res = jnp.linalg.norm(r, axis=0) / bnorm
        it += 1
        history.append(float(res.max()))
        if log is not None:
            log(f"cg iteration {it}: max relative residual {history[-1]:.3e}")
        if not math.isfinite(history[-1]):
            break
        p, rz = _cg_direction(m(r), r, p, rz, res > tol)
    return CGResult(x=x, iterations=it, residual=float(res.max()), history=tuple(history))
