"""Where a 60 000-image CG iteration's time goes, against the floor `kernel_scale.py --floor` uses
(ratios printed, nothing asserted).

The floor prices an iteration at the half Gram's bytes over the read bandwidth, the kernel's
FLOPs free. An iteration does more than read: it applies every cached (b, b) block to the C = 10
CG vectors twice (K_ij v_j and K_ijᵀ v_i: 40 FLOPs per 4-byte entry), and in bounded memory it
re-evaluates the blocks that did not fit. This prints, each per CPU second of this process
(best of 3, after compiling):

  read        a sum over a 1 GiB float32 array (the floor's bandwidth)
  gemm        a square 4096² float32 matmul (the floor's FLOP rate)
  P·V, Vᵀ·P   one (b, L) panel times (L, C), and (C, b) times the panel: the two skinny GEMM forms
              of the matvec, in GB of panel per CPU second
  matvec      the solver's own blocked symmetric matvec (`make_matvec`) over cached blocks
  kernel      one (b, b) block of the `ntk-mlp` kernel at d = 784: neural-tangents, the closed
              form the CG fit uses (`closed_form.fc_relu`) and the inner products alone

and, for n = 60 000, an iteration at each measured rate against the floor's.

    .venv/bin/python benchmarks/cg_profile.py
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from kernel_scale import cpu_seconds, measure_floor_rates  # the floor's own two rates

N, D, C, B = 60_000, 784, 10, 1024


def best_cpu(fn, reps: int = 3) -> float:
    jax.block_until_ready(fn())  # compile, warm
    runs = []
    for _ in range(reps):
        c0 = cpu_seconds()
        jax.block_until_ready(fn())
        runs.append(cpu_seconds() - c0)
    return min(runs)


def matvec_rates(rng) -> tuple[float, float, float]:
    """GB of blocks per CPU second: P·V, Vᵀ·P over one panel, and the solver's matvec."""
    from ntkbench.kernels.iterative import make_matvec

    nb, cached = 16, 136  # every upper block of 16 × 16: 136 blocks, 0.57 GB
    panel = jnp.asarray(rng.standard_normal((B, nb * B), np.float32))
    v = jnp.asarray(rng.standard_normal((nb * B, C), np.float32))
    v_i = v[:B]
    matmul, transposed = jax.jit(jnp.matmul), jax.jit(lambda p, w: w.T @ p)
    pv = panel.nbytes / best_cpu(lambda: matmul(panel, v))
    vp = panel.nbytes / best_cpu(lambda: transposed(panel, v_i))
    blocks = jnp.asarray(rng.standard_normal((cached, B, B), np.float32))
    kv, _ = make_matvec(lambda x1, x2: x1 @ x2.T, nb, nb * B, cached)
    xb = jnp.zeros((nb, B, 1), jnp.float32)
    return pv, vp, blocks.nbytes / best_cpu(lambda: kv(xb, blocks, v))


def main() -> None:
    from ntkbench.kernels import kernel_fn
    from ntkbench.methods.sample_complexity import mlp_arch

    rng = np.random.default_rng(0)
    rates = measure_floor_rates()
    read, gemm = rates["read_bytes_per_cpu_s"], rates["matmul_flops_per_cpu_s"]
    pv, vp, matvec = matvec_rates(rng)

    k = kernel_fn(mlp_arch(10, width=100, depth=2), (28, 28, 1), "ntk")
    x1, x2 = (jnp.asarray(rng.random((B, 28, 28, 1), np.float32)) for _ in range(2))
    nt_block = best_cpu(lambda: k(x1, x2), 5)
    closed_block = best_cpu(lambda: k.closed_form(x1, x2), 5)
    inner = jax.jit(lambda p, q: p.reshape(B, -1) @ q.reshape(B, -1).T)
    inner_block = best_cpu(lambda: inner(x1, x2), 5)

    print(f"rates per CPU second: read {read / 1e9:.2f} GB/s, square gemm {gemm / 1e9:.1f} GFLOP/s")
    print(f"skinny gemm forms (C = {C}): P·V {pv / 1e9:.2f} GB/s ({pv * C / 2 / 1e9:.1f} GFLOP/s), ", end="")
    print(f"Vᵀ·P {vp / 1e9:.2f} GB/s ({vp * C / 2 / 1e9:.1f} GFLOP/s); the solver's matvec {matvec / 1e9:.2f} GB/s")
    print(
        f"one {B}² kernel block (d = {D}): neural-tangents {nt_block * 1e3:.1f} ms, closed form "
        f"{closed_block * 1e3:.1f} ms, inner products alone {inner_block * 1e3:.1f} ms "
        f"({2 * B * B * D / inner_block / 1e9:.0f} GFLOP/s)"
    )
    half = N * (N + 1) / 2 * 4  # the half Gram's bytes
    blocks_60k = -(-N // B) * (-(-N // B) + 1) // 2
    floor_iter = half / read
    print(f"n = {N}: one CG iteration over the half Gram ({half / 1e9:.1f} GB, {blocks_60k} blocks)")
    print(f"  floor (bytes at the read rate)            {floor_iter:7.2f} CPU s")
    flops = 2 * 2 * C * half / 4
    print(f"  its {flops / 1e9:.0f} GFLOP at the square gemm rate      {flops / gemm:7.2f} CPU s")
    cached = half / matvec
    print(f"  the solver's matvec, everything cached    {cached:7.2f} CPU s = {cached / floor_iter:.1f} x")
    for share in (0.5, 0.25):
        t = share * blocks_60k * closed_block + (1 - share) * half / matvec
        print(f"  {share:.0%} of the blocks re-evaluated (closed form) {t:7.2f} CPU s = {t / floor_iter:.1f} x")
        t_inner = share * blocks_60k * inner_block
        print(f"    of which their inner products alone         {t_inner:7.2f} CPU s = {t_inner / floor_iter:.1f} x")


if __name__ == "__main__":
    main()
