"""ntkbench's kernel path against neural-tangents' own batched `kernel_fn`, on one NTK Gram.

    .venv/bin/python benchmarks/peers/kernels_nt.py                       # FC at n = 10 000, ConvNet at n = 1 000
    .venv/bin/python benchmarks/peers/kernels_nt.py --n-fc 2000 --n-conv 200   # smoke

Issue #31, comparison 4. Both sides compute the infinite-width NTK Gram K(X, X) of the first n
Fashion-MNIST training images (`ntkbench data import fashion_mnist` first), float32, on the host
at the end (a numpy n × n array each), in one process:
  - peer: the network written in neural-tangents' stax as its documentation does (Dense/Conv
    layers, Relu, Flatten, parameterization and W_std of ntkbench's Arch defaults), its
    `kernel_fn` jitted with `get="ntk"` static and batched by `nt.batch(kernel_fn, batch_size,
    store_on_device=False)` (batch_size divides n, as nt.batch requires; --nt-batch);
  - ntkbench: `ntkbench.kernels.kernel_fn(arch, input_shape, "ntk")` and `ntkbench.kernels.gram`
    (its default blocks: the largest square blocks within 1 GiB of kernel memory; symmetric, so
    only the blocks on or above the diagonal are evaluated).
Architectures: FC = the sample-complexity `mlp` (2 × 100, the `ntk-mlp` kernel); ConvNet = the
sample-complexity `cnn` (3 conv layers of 25 channels, kernel 5, stride 2, SAME, Flatten readout).
Each side's compile is timed apart (one call on its own block shape), then the whole Gram, best of
--repeats. Entries per second = n² / seconds for both (the same matrix is delivered). Largest
difference: max |K_nt − K_nb| and max |K_nt − K_nb| / max|K_nt| (relative to the largest entry)
and the largest entrywise relative difference.

neural-tangents 0.6.5 is imported through ntkbench's shim (`import_neural_tangents`): it does not
import on current JAX otherwise. Prints one line per comparison: work, peer time, ntkbench time,
ratio (peer ÷ ntkbench), the largest differences (and `_common.comparison_line`'s line for run.py).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from typing import Any

import jax
import numpy as np
from _common import comparison_line  # benchmarks/peers/, the script's own folder

from ntkbench.data import load_dataset
from ntkbench.kernels import DEFAULT_MAX_BYTES, gram, import_neural_tangents, kernel_fn
from ntkbench.kernels.infinite import _block_sizes
from ntkbench.methods.sample_complexity import cnn_arch, mlp_arch


def peer_layers(arch, nt):
    """The network in neural-tangents' stax, written from the Arch fields as a user would."""
    stax = nt.stax
    par, b_std = arch.parameterization, float(arch.b_std)
    if arch.kind == "mlp":
        layers = [stax.Flatten()]
        for w in arch.widths:
            layers += [stax.Dense(w, W_std=arch.w_std, b_std=b_std, parameterization=par), stax.Relu()]
    else:
        layers = []
        for w in arch.widths:
            conv = stax.Conv(
                w,
                (arch.kernel_size, arch.kernel_size),
                strides=(arch.stride, arch.stride),
                padding=arch.padding,
                W_std=arch.w_std,
                b_std=b_std,
                parameterization=par,
            )
            layers += [conv, stax.Relu()]
        layers.append(stax.Flatten())
    layers.append(stax.Dense(arch.num_classes, W_std=arch.readout_w_std, b_std=b_std, parameterization=par))
    return stax.serial(*layers)


def timed(fn) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def compare(name, arch, x, batch, repeats) -> dict:
    nt = import_neural_tangents()
    n = len(x)
    if n % batch:
        raise SystemExit(f"{name}: nt.batch needs batch_size dividing n ({n} % {batch} != 0)")
    _, _, nt_kernel = peer_layers(arch, nt)
    nt_gram = nt.batch(jax.jit(nt_kernel, static_argnames="get"), batch_size=batch, store_on_device=False)
    k = kernel_fn(arch, x.shape[1:], "ntk")

    def run_nt():
        return np.asarray(nt_gram(x, None, "ntk"))

    def run_nb():
        return gram(k, x)

    b_nb = _block_sizes(n, n, k.bytes_per_pair, DEFAULT_MAX_BYTES, None)  # the blocks gram takes
    nt_compile, _ = timed(lambda: np.asarray(nt_gram(x[:batch], None, "ntk")))
    nb_compile, _ = timed(lambda: gram(k, x[: min(b_nb)]))
    nt_s, nb_s = float("inf"), float("inf")
    for _ in range(repeats):  # interleaved, so both sides see the same load
        s, k_nt = timed(run_nt)
        nt_s = min(nt_s, s)
        s, k_nb = timed(run_nb)
        nb_s = min(nb_s, s)
    diff = np.abs(k_nt.astype(np.float64) - k_nb)
    scale = float(np.abs(k_nt).max())
    rel = diff / np.maximum(np.abs(k_nt), np.finfo(np.float32).tiny)
    return {
        "work": f"{name} NTK Gram {n}×{n}",
        "nt_s": nt_s,
        "nb_s": nb_s,
        "nt_compile": nt_compile,
        "nb_compile": nb_compile,
        "entries": n * n,
        "max_abs": float(diff.max()),
        "max_abs_scaled": float(diff.max()) / scale,
        "max_rel": float(rel.max()),
        "blocks": f"nt.batch {batch}, gram {b_nb[0]}×{b_nb[1]}",
    }


def describe(r: dict) -> str:
    e = r["entries"]
    return (
        f"{r['work']:<28} nt {r['nt_s']:8.2f} s ({e / r['nt_s']:.3g} entries/s)  "
        f"ntkbench {r['nb_s']:8.2f} s ({e / r['nb_s']:.3g} entries/s)  ratio nt÷ntkbench {r['nt_s'] / r['nb_s']:.2f}  "
        f"max|Δ| {r['max_abs']:.2e} ({r['max_abs_scaled']:.1e} of max|K|, entrywise rel {r['max_rel']:.1e})  "
        f"[compile nt {r['nt_compile']:.1f} s, ntkbench {r['nb_compile']:.1f} s; {r['blocks']}]"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-fc", type=int, default=10000, help="FC Gram size (0: skip)")
    ap.add_argument("--n-conv", type=int, default=1000, help="ConvNet Gram size (0: skip)")
    ap.add_argument("--nt-batch", type=int, default=1000, help="nt.batch batch_size (divides both n)")
    ap.add_argument("--nt-batch-conv", type=int, default=250, help="nt.batch for the ConvNet (~gram's 1 GiB block)")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args()
    d = load_dataset("fashion_mnist", args.data_dir)
    nt = import_neural_tangents()
    print(
        f"jax {jax.__version__} ({jax.default_backend()}), neural-tangents {nt.__version__}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}; load {os.getloadavg()[0]:.2f}"
    )
    runs = [("FC", mlp_arch(d.num_classes, width=100, depth=2), args.n_fc, args.nt_batch)]
    conv = cnn_arch(d.num_classes, channels=25, depth=3, kernel_size=5, stride=2)
    runs.append(("ConvNet", conv, args.n_conv, args.nt_batch_conv))
    for name, arch, n, batch in runs:
        if n:
            x = np.asarray(d.x_train[:n], np.float32)
            r = compare(name, arch, x, min(batch, n), args.repeats)
            print(describe(r), flush=True)
            numbers = {
                "entries/s nt | ntkbench": f"{r['entries'] / r['nt_s']:.3g} | {r['entries'] / r['nb_s']:.3g}",
                "max|Δ|": f"{r['max_abs']:.2e} ({r['max_abs_scaled']:.1e} of max|K|)",
                "max entrywise rel Δ": f"{r['max_rel']:.1e}",
            }
            print(comparison_line(r["work"], "neural-tangents", r["nt_s"], r["nb_s"], numbers), flush=True)


if __name__ == "__main__":
    main()
