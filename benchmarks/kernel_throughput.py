"""Kernel throughput: Gram-matrix entries per second for the quick-suite kernels (nothing asserted).

FC: the MNIST-1D MLP 100-100 (inputs (40, 1)); ConvNet: the MNIST-1D CNN of the reference
`cnn` method (3 conv layers of 25 channels, kernel 5, stride 2, Flatten readout). Infinite-width
NTK and NNGP via `ntkbench.kernels.gram`; the pooled ConvNet-3 of the distillation evaluation
(1-D, width 128, avg pooling, without instance norm); the empirical NTK of the finite MLP.

Compile time (first call on one block shape) is reported apart from run time; runs are timed
after warm-up, results forced to the host (gram returns numpy; empirical blocks likewise), best
of `--repeats`. Also printed: the block sizes `gram` chose, the memory bound it keeps
(b1 · b2 · bytes_per_pair) and XLA's own temp-buffer size for one block, for comparison.

    .venv/bin/python benchmarks/kernel_throughput.py [--n-fc 500] [--n-conv 100] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import jax
from flax import nnx

import ntkbench.kernels as K
from ntkbench.data import load_dataset
from ntkbench.kernels.infinite import _block_sizes
from ntkbench.models import Network, convnet, mlp


def cnn_arch(num_classes):
    try:  # the reference method's architecture, if the methods package provides it
        from ntkbench.methods.sample_complexity import cnn_arch as ref

        return ref(num_classes, channels=25, depth=3, kernel_size=5, stride=2), "methods.cnn_arch"
    except Exception:  # noqa: BLE001
        return convnet(num_classes, (25, 25, 25), kernel_size=5, stride=2), "fallback"


def fmt_bytes(b):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if b < 1024:
            return f"{b:.1f} {unit}"
        b /= 1024
    return f"{b:.1f} TiB"


def bench_gram(name, k, x_train, x_test, repeats):
    n_tr, n_te = len(x_train), len(x_test)
    b1, b2 = _block_sizes(n_te, n_tr, k.bytes_per_pair, K.DEFAULT_MAX_BYTES, None)
    # compile: the first call on the block shape gram will use (inputs padded to block size)
    xa, xb = x_test[:b1], x_train[:b2]
    if len(xa) < b1 or len(xb) < b2:
        raise ValueError("benchmark expects n >= block size")
    t0 = time.perf_counter()
    jax.block_until_ready(k(xa, xb))
    compile_s = time.perf_counter() - t0
    compiled = jax.jit(k._k).lower(xa, xb).compile()
    mem = compiled.memory_analysis()
    xla_temp = getattr(mem, "temp_size_in_bytes", None) if mem is not None else None
    # symmetric train Gram and the test-train block
    bs = min(b1, b2)
    jax.block_until_ready(k(x_train[:bs], x_train[:bs]))  # compile the symmetric block shape
    best_sym = best_cross = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        K.gram(k, x_train)
        best_sym = min(best_sym, time.perf_counter() - t0)
        t0 = time.perf_counter()
        K.gram(k, x_test, x_train)
        best_cross = min(best_cross, time.perf_counter() - t0)
    print(
        f"{name:<28} compile {compile_s:6.2f} s | "
        f"train x train {n_tr}x{n_tr}: {best_sym:7.3f} s, {n_tr * n_tr / best_sym:11.4g} entries/s | "
        f"test x train {n_te}x{n_tr}: {best_cross:7.3f} s, {n_te * n_tr / best_cross:11.4g} entries/s"
    )
    print(
        f"{'':<28} blocks {b1}x{b2}, bound b1*b2*bytes_per_pair = "
        f"{fmt_bytes(b1 * b2 * k.bytes_per_pair)} ({k.bytes_per_pair} B/pair); "
        f"XLA temp for one block: {fmt_bytes(xla_temp) if xla_temp is not None else 'n/a'}"
    )


def bench_empirical(arch, x, repeats):
    net = Network(arch, x.shape[1:], rngs=nnx.Rngs(0))
    n = len(x)
    for impl in (1, 2):
        t0 = time.perf_counter()
        K.empirical_ntk(net, x, implementation=impl, batch_size=n)
        first = time.perf_counter() - t0
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            K.empirical_ntk(net, x, implementation=impl, batch_size=n)
            best = min(best, time.perf_counter() - t0)
        print(
            f"{'empirical NTK MLP impl ' + str(impl):<28} compile+run {first:6.2f} s | "
            f"{n}x{n}: {best:7.3f} s, {n * n / best:11.4g} entries/s (symmetric: upper blocks only)"
        )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n-fc", type=int, default=500, help="train and test points, FC kernels")
    ap.add_argument("--n-conv", type=int, default=300, help="train and test points, conv kernel")
    ap.add_argument(
        "--n-pool", type=int, default=60, help="points for the pooled ConvNet-3 (distillation evaluation arch)"
    )
    ap.add_argument("--n-emp", type=int, default=100, help="points for the empirical NTK")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    d = load_dataset("mnist1d")
    print(f"backend {jax.default_backend()}, devices {jax.devices()}, dtype float32")
    fc = mlp(d.num_classes, (100, 100))
    cnn, origin = cnn_arch(d.num_classes)
    print(f"FC:   {fc}\nConv: {cnn} ({origin})")
    xtr, xte = d.x_train, d.x_test
    for kind in ("ntk", "nngp"):
        bench_gram(f"FC {kind}", K.kernel_fn(fc, d.input_shape, kind), xtr[: args.n_fc], xte[: args.n_fc], args.repeats)
    bench_gram(
        "ConvNet ntk", K.kernel_fn(cnn, d.input_shape, "ntk"), xtr[: args.n_conv], xte[: args.n_conv], args.repeats
    )
    # The distillation evaluation ConvNet-3 (1-D analogue, instance norm dropped: it has no exact
    # kernel): average pooling makes neural-tangents keep the full spatial covariance (P² per pair).
    pool = convnet(d.num_classes, (128, 128, 128), pool="avg")
    print(f"Pooled ConvNet-3: {pool}")
    bench_gram(
        "ConvNet-3 avgpool ntk",
        K.kernel_fn(pool, d.input_shape, "ntk"),
        xtr[: args.n_pool],
        xte[: args.n_pool],
        args.repeats,
    )
    bench_empirical(fc, xtr[: args.n_emp], args.repeats)


if __name__ == "__main__":
    main()
