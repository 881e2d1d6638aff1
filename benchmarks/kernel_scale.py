"""Kernel regression at full dataset size in bounded memory: dense Cholesky vs matrix-free CG
(ratios printed, nothing asserted).

The FC NTK of the sample-complexity task's `mlp` architecture (what `ntk-mlp` regresses with:
`mlp_arch(10, width=100, depth=2)`), centred one-hot targets, relative ridge 1e-4, on
Fashion-MNIST (`ntkbench data import fashion_mnist` first): a random subset of n training
images (seed --seed; all of them at n = 60000) and the first --test test images.

  --compare: dense and cg each in its own subprocess (so each one's peak resident memory,
      ru_maxrss, is its own) on the same subset: test accuracy of each and their difference,
      relative prediction error ‖P_cg − P_dense‖ / ‖P_dense‖, peak RSS cg ÷ dense (whole process
      and above the RSS after loading the data), fit and predict wall times, CG iterations.
  otherwise: cg alone (dense at n = 60000 needs 3 · n² · 4 B = 43 GB): fit and predict wall
      time, peak RSS, test accuracy, and prediction throughput (test × train kernel entries per
      second of predict) ÷ Gram throughput (entries per second of `gram` on one square
      --gram-n × --gram-n block of distinct points, timed after its compile, best of 3).
Fit times include compiling; predict is timed after a one-row call that compiles it (printed
apart). On an accelerator the device's peak memory is printed too.

--mode sizes the CG run (issue #31, "the limit for the largest kernel job"):
  fast:    the whole half Gram cached (nb (nb + 1) / 2 blocks of b² float32, 7.4 GB at n = 60 000),
      so each iteration reads it instead of evaluating the kernel;
  bounded: the cache gets what --memory (default 6 GiB) leaves after the solver's own bound
      (`cg_cache_bytes`) and the process's resident size after loading the data (+ 0.5 GiB margin).
--floor measures this machine's floor for the fit and prints the fit as a multiple of it:
  the Gram's FLOPs (n (n + 1) / 2 pairs × 2 d: the inputs' inner products, the kernel's
  elementwise maps counted free) at the measured float32 matmul rate (4096² · 4096², best of 3)
  plus, per CG iteration of the fit, the half Gram's bytes (n (n + 1) / 2 · 4) at the measured
  read bandwidth (a sum over a 1 GiB float32 array, best of 3), per wall and per CPU second.
  Measured by the parent process just before the fit's child starts (so its arrays are not in the
  child's peak memory) under the same load (printed: the 1-minute load average before and after
  the fit). On a shared machine the CPU-second multiple is the steadier one.

    .venv/bin/python benchmarks/kernel_scale.py --n 16000 --compare
    .venv/bin/python benchmarks/kernel_scale.py --n 60000
    .venv/bin/python benchmarks/kernel_scale.py --n 2000 --compare --test 1000   # smoke test
    .venv/bin/python benchmarks/kernel_scale.py          # n = 4000, cg alone (what run_all.py runs)
    .venv/bin/python benchmarks/kernel_scale.py --n 60000 --mode fast --floor --tol 1e-3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def cpu_seconds() -> float:
    """CPU seconds of this process so far, all threads (on a shared machine: what the work cost)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def device_peak_bytes() -> int | None:
    import jax

    stats = jax.devices()[0].memory_stats() or {}
    return stats.get("peak_bytes_in_use")


def gib(b) -> str:
    return "n/a" if b is None else f"{b / 2**30:.2f} GiB"


def measure_floor_rates() -> dict[str, float]:
    """This machine's float32 matmul FLOP/s and read bytes/s now, each the best of 3 warm runs, per
    wall second and per CPU second of this process (the second is what a shared machine's load
    changes least: the fit is compared in both)."""
    import jax
    import jax.numpy as jnp

    a = jnp.asarray(np.random.default_rng(0).standard_normal((4096, 4096), np.float32))
    big = jnp.ones((1 << 28,), jnp.float32)  # 1 GiB
    matmul, total = jax.jit(jnp.matmul), jax.jit(jnp.sum)
    jax.block_until_ready((matmul(a, a), total(big)))

    def best(fn) -> tuple[float, float]:
        runs = []
        for _ in range(3):
            t0, c0 = time.perf_counter(), cpu_seconds()
            jax.block_until_ready(fn())
            runs.append((time.perf_counter() - t0, cpu_seconds() - c0))
        return min(runs)

    (mm_s, mm_cpu), (rd_s, rd_cpu) = best(lambda: matmul(a, a)), best(lambda: total(big))
    flops = 2 * 4096**3
    return {
        "matmul_flops_per_s": flops / mm_s,
        "read_bytes_per_s": big.nbytes / rd_s,
        "matmul_flops_per_cpu_s": flops / mm_cpu,
        "read_bytes_per_cpu_s": big.nbytes / rd_cpu,
    }


def floor_seconds(n: int, d: int, flops_per_s: float, bytes_per_s: float) -> tuple[float, float]:
    """(Gram seconds, seconds per CG iteration) at the floor: the half Gram's input inner products
    at the matmul rate; the half Gram's float32 bytes at the read bandwidth."""
    pairs = n * (n + 1) / 2
    return pairs * 2 * d / flops_per_s, pairs * 4 / bytes_per_s


def cache_for_mode(args, k, n: int, c: int, base_rss: int) -> int:
    """cache_bytes of --mode (fast: the whole half Gram; bounded: what --memory leaves)."""
    from ntkbench.kernels.infinite import DEFAULT_MAX_BYTES, _block_sizes
    from ntkbench.kernels.solve import cg_cache_bytes

    b = min(_block_sizes(n, n, k.bytes_per_pair, DEFAULT_MAX_BYTES, None))
    nb = -(-n // b)
    if args.mode == "fast":
        return nb * (nb + 1) // 2 * b * b * 4
    budget = int(args.memory * 2**30) - base_rss - (512 << 20)
    return cg_cache_bytes(n, c, min(n, args.centres), b, b * b * k.bytes_per_pair, budget)


def load(args):
    """(kernel, x_train subset, y_train subset, x_test, y_test) — the same in every process."""
    from ntkbench.data import load_dataset
    from ntkbench.kernels import kernel_fn
    from ntkbench.methods.sample_complexity import mlp_arch

    d = load_dataset("fashion_mnist", args.data_dir)
    n_all = len(d.y_train)
    if not 0 < args.n <= n_all:
        raise SystemExit(f"--n must be in 1..{n_all}, got {args.n}")
    idx = np.sort(np.random.default_rng(args.seed).choice(n_all, args.n, replace=False))
    k = kernel_fn(mlp_arch(d.num_classes, width=args.width, depth=args.depth), d.input_shape, "ntk")
    x, y = np.asarray(d.x_train[idx], np.float32), d.y_train[idx]
    return k, x, y, np.asarray(d.x_test[: args.test], np.float32), d.y_test[: args.test], d.num_classes


def child(args) -> None:
    """One solver, one process: prints one JSON line (the predictions go to --out)."""
    import jax

    from ntkbench.engine.kernel_predictor import centred_one_hot
    from ntkbench.kernels import fit_kernel_regression

    k, x, y, xt, yt, c = load(args)
    load_avg = os.getloadavg()[0]
    base_rss = peak_rss_bytes()
    cache_bytes = cache_for_mode(args, k, len(x), c, base_rss) if args.mode else args.cache_bytes
    every = args.log_every

    def log(line):
        it = int(line.split()[2].rstrip(":"))
        if every and it % every == 0:
            print(f"  [{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)

    t0, c0 = time.perf_counter(), cpu_seconds()
    fit = fit_kernel_regression(
        k,
        x,
        centred_one_hot(y, c),
        ridge=args.ridge,
        solver=args.child,
        centres=args.centres,
        tol=args.tol,
        max_iters=args.max_iters,
        cache_bytes=cache_bytes,
        log=log,
    )
    jax.block_until_ready(fit.alpha)
    fit_s, fit_cpu_s = time.perf_counter() - t0, cpu_seconds() - c0
    t0 = time.perf_counter()
    fit.predict(xt[:1])  # compiles predict's programs (one block shape for every size)
    predict_compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    pred = np.asarray(fit.predict(xt))
    predict_s = time.perf_counter() - t0
    np.save(args.out, pred)
    i = fit.info
    out = {
        "solver": i.solver,
        "fit_s": fit_s,
        "fit_cpu_s": fit_cpu_s,
        "predict_s": predict_s,
        "predict_compile_s": predict_compile_s,
        "acc": float((pred.argmax(-1) == yt).mean() * 100),
        "iterations": i.iterations,
        "cg_s": i.cg_seconds,
        "residual": i.residual,
        "rank": i.rank,
        "cached_blocks": i.cached_blocks,
        "memory_bound": i.memory_bound,
        "block": list(i.block),
        "predict_block": list(fit.block),
        "m": len(xt),
        "n": len(x),
        "peak_rss": peak_rss_bytes(),
        "base_rss": base_rss,
        "device_peak": device_peak_bytes(),
        "backend": jax.default_backend(),
        "mode": args.mode,
        "d": int(np.prod(x.shape[1:])),
        "load_before": load_avg,
        "load_after": os.getloadavg()[0],
    }
    if args.gram_n:
        out["gram_entries_per_s"] = gram_throughput(k, x, xt, args.gram_n)
    print(json.dumps(out))


def gram_throughput(k, x, xt, b) -> float:
    """Entries per second of `gram` on one b × b block of distinct points (train × test rows)."""
    from ntkbench.kernels import gram

    b = min(b, len(x), len(xt))
    gram(k, xt[:b], x[:b])  # compile
    best = min(_timed(lambda: gram(k, xt[:b], x[:b])) for _ in range(3))
    return b * b / best


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run_child(args, solver: str, out: Path, gram_n: int) -> dict:
    cmd = [sys.executable, __file__, "--child", solver, "--out", str(out), "--gram-n", str(gram_n)]
    for name in ("n", "test", "seed", "width", "depth", "ridge", "centres", "tol", "max_iters", "cache_bytes"):
        cmd += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    cmd += ["--log-every", str(args.log_every)] + (["--data-dir", args.data_dir] if args.data_dir else [])
    cmd += ["--mode", args.mode, "--memory", str(args.memory)] if args.mode else []
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    if r.returncode:
        raise SystemExit(f"{solver} child failed (exit {r.returncode})")
    rec = json.loads(r.stdout.strip().splitlines()[-1])
    rec["wall_s"] = time.perf_counter() - t0
    return rec


def describe(rec: dict) -> str:
    s = (
        f"{rec['solver']:<5} acc {rec['acc']:6.2f} %  fit {rec['fit_s']:8.1f} s  predict {rec['predict_s']:7.1f} s "
        f"(+{rec['predict_compile_s']:.1f} s first call)  "
        f"peak RSS {gib(rec['peak_rss'])} (+{gib(rec['peak_rss'] - rec['base_rss'])} over the data)  "
        f"bound {gib(rec['memory_bound'])}"
    )
    if rec["device_peak"] is not None:
        s += f"  device peak {gib(rec['device_peak'])}"
    if rec["solver"] == "cg":
        per = rec["cg_s"] / max(rec["iterations"], 1)
        s += (
            f"\n      CG {rec['iterations']} iterations (residual {rec['residual']:.1e}) in {rec['cg_s']:.1f} s, "
            f"{per:.2f} s per iteration; setup (diag K, Nyström rank {rec['rank']}) "
            f"{rec['fit_s'] - rec['cg_s']:.1f} s; cached Gram blocks {rec['cached_blocks']}"
        )
    s += f"\n      load average {rec['load_before']:.2f} before the fit, {rec['load_after']:.2f} after"
    if "matmul_flops_per_s" in rec and rec["solver"] == "cg":
        n, it = rec["n"], rec["iterations"]
        for unit, flops, reads, fit in (
            ("wall", rec["matmul_flops_per_s"], rec["read_bytes_per_s"], rec["fit_s"]),
            ("CPU", rec["matmul_flops_per_cpu_s"], rec["read_bytes_per_cpu_s"], rec["fit_cpu_s"]),
        ):
            t_gram, t_iter = floor_seconds(n, rec["d"], flops, reads)
            floor = t_gram + it * t_iter
            s += (
                f"\n      floor ({unit} s): matmul {flops / 1e9:.1f} GFLOP/s, read {reads / 1e9:.2f} GB/s"
                f" -> Gram {t_gram:.1f} s + {it} iterations x {t_iter:.2f} s = {floor:.1f} s;"
                f" fit {fit:.1f} {unit} s = {fit / floor:.2f} x the floor"
            )
    return s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=4000, help="training images (60000: all)")
    ap.add_argument("--test", type=int, default=10000, help="test images (the first ones)")
    ap.add_argument("--compare", action="store_true", help="dense and cg, one process each")
    ap.add_argument("--seed", type=int, default=0, help="the training subset")
    ap.add_argument("--width", type=int, default=100, help="ntk-mlp's width (names the architecture)")
    ap.add_argument("--depth", type=int, default=2)
    ap.add_argument("--ridge", type=float, default=1e-4, help="relative ridge (ntk-mlp's default)")
    ap.add_argument("--centres", type=int, default=1000, help="Nyström centres of the CG preconditioner")
    ap.add_argument("--tol", type=float, default=1e-5, help="CG relative residual")
    ap.add_argument("--max-iters", type=int, default=1000)
    ap.add_argument("--cache-bytes", type=int, default=0, help="Gram blocks CG may keep (0: bounded memory)")
    ap.add_argument("--mode", choices=("fast", "bounded"), help="size the Gram-block cache (overrides --cache-bytes)")
    ap.add_argument("--memory", type=float, default=6.0, help="GiB the bounded mode stays within")
    ap.add_argument("--floor", action="store_true", help="measure the machine's floor; print the fit's multiple")
    ap.add_argument("--gram-n", type=int, default=2048, help="square block for the Gram throughput")
    ap.add_argument("--log-every", type=int, default=10, help="print every k-th CG iteration (0: none)")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--child", choices=("dense", "cg"), help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return

    import jax

    print(f"backend {jax.default_backend()}, n = {args.n} train, {args.test} test, ridge {args.ridge} (relative)")
    with tempfile.TemporaryDirectory() as tmp:
        if args.compare:
            recs = {s: run_child(args, s, Path(tmp) / f"{s}.npy", 0) for s in ("dense", "cg")}
            preds = {s: np.load(Path(tmp) / f"{s}.npy") for s in recs}
            d, c = recs["dense"], recs["cg"]
            for rec in (d, c):
                print(describe(rec))
            err = np.linalg.norm(preds["cg"] - preds["dense"]) / np.linalg.norm(preds["dense"])
            agree = (preds["cg"].argmax(-1) == preds["dense"].argmax(-1)).mean() * 100
            print(f"accuracy cg − dense: {c['acc'] - d['acc']:+.2f} points ({agree:.2f} % of predicted labels agree)")
            print(f"relative prediction error ‖P_cg − P_dense‖/‖P_dense‖: {err:.2e}")
            print(
                f"peak RSS cg ÷ dense: {c['peak_rss'] / d['peak_rss']:.3f} (whole process), "
                f"{(c['peak_rss'] - c['base_rss']) / max(d['peak_rss'] - d['base_rss'], 1):.3f} (above the data)"
            )
            print(f"fit time cg ÷ dense: {c['fit_s'] / d['fit_s']:.2f}; predict: {c['predict_s'] / d['predict_s']:.2f}")
        else:
            rates = measure_floor_rates() if args.floor else None  # here, not in the measured child
            rec = run_child(args, "cg", Path(tmp) / "cg.npy", args.gram_n)
            rec.update(rates or {})
            print(describe(rec))
            entries = rec["m"] * args.n / rec["predict_s"]
            gram_rate = rec["gram_entries_per_s"]
            print(
                f"fit + predict wall time {rec['fit_s'] + rec['predict_s']:.1f} s; predict {entries:.4g} entries/s, "
                f"gram {gram_rate:.4g} entries/s ({args.gram_n}²): predict ÷ gram throughput {entries / gram_rate:.3f}"
            )


if __name__ == "__main__":
    main()
