"""Harness overhead and seed vectorisation, measured in one process (ratios printed, nothing asserted).

1. harness ÷ hand-written: the MNIST-1D MLP (2x100, Adam 1e-2, batch 100) trained for STEPS steps
   on 4000 examples and evaluated on the test split, once through the harness (the `mlp` plugin
   under `run_seeds`) and once as a hand-written jitted `lax.scan` over plain arrays. Run time only;
   compile time is reported apart. Goal ≤ 1.05.
2. 8 vmapped seeds ÷ 8 sequential runs, for the MLP and the CNN. Goal ≤ 0.5 on CPU.

    python benchmarks/harness_overhead.py [--steps 6000] [--repeats 3]
"""

import argparse
import time

import jax
import jax.numpy as jnp
import optax

import ntkbench as nb
from ntkbench.data import load_dataset
from ntkbench.engine.seeds import run_seeds, seed_keys
from ntkbench.registry import get_method


def harness_program(method: str, ds, steps: int):
    spec = get_method(method)
    x, y = jnp.asarray(ds.x_train), jnp.asarray(ds.y_train)
    xt, yt = jnp.asarray(ds.x_test), jnp.asarray(ds.y_test)

    def one_seed(key):
        predictor = spec.fn(key, nb.Split(x, y, 10), **{**spec.params, "steps": steps})
        return (predictor(xt).argmax(-1) == yt).mean()

    return one_seed


def hand_written(ds, steps: int):
    """The same MLP and loop, no ntkbench: plain dict params, optax, lax.scan."""
    x = jnp.asarray(ds.x_train.reshape(len(ds.x_train), -1))
    y = jnp.asarray(ds.y_train)
    xt, yt = jnp.asarray(ds.x_test.reshape(len(ds.x_test), -1)), jnp.asarray(ds.y_test)
    sizes = [x.shape[1], 100, 100, 10]
    opt = optax.adam(1e-2)

    def forward(p, h):
        for i in range(3):
            h = h @ p[f"w{i}"] + p[f"b{i}"]
            h = jax.nn.relu(h) if i < 2 else h
        return h

    def loss(p, xb, yb):
        return optax.softmax_cross_entropy_with_integer_labels(forward(p, xb), yb).mean()

    @jax.jit
    def train(key):
        ks = jax.random.split(key, 4)
        p = {}
        for i in range(3):
            std = (2.0 if i < 2 else 1.0) ** 0.5 / sizes[i] ** 0.5
            p[f"w{i}"] = std * jax.random.normal(ks[i], (sizes[i], sizes[i + 1]))
            p[f"b{i}"] = jnp.zeros(sizes[i + 1])

        def step(carry, k):
            p, s = carry
            idx = jax.random.randint(k, (100,), 0, x.shape[0])
            g = jax.grad(loss)(p, x[idx], y[idx])
            u, s = opt.update(g, s, p)
            return (optax.apply_updates(p, u), s), None

        (p, _), _ = jax.lax.scan(step, (p, opt.init(p)), jax.random.split(ks[3], steps))
        return (forward(p, xt).argmax(-1) == yt).mean()

    return train


def timed(fn, *args, repeats):
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(fn(*args))
        best = min(best, time.perf_counter() - t)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--methods", nargs="*", default=["mlp", "cnn"])
    args = ap.parse_args()
    ds = load_dataset("mnist1d")
    print(f"backend {jax.default_backend()}, {args.steps} steps, best of {args.repeats}")

    key = jax.random.key(0)
    hand = hand_written(ds, args.steps)
    t = time.perf_counter()
    hand_c = hand.lower(key).compile()
    hand_compile = time.perf_counter() - t
    harness = jax.jit(harness_program("mlp", ds, args.steps))
    t = time.perf_counter()
    harness_c = harness.lower(key).compile()
    harness_compile = time.perf_counter() - t
    # Interleave so both see the same machine load.
    pairs = [(timed(hand_c, key, repeats=1), timed(harness_c, key, repeats=1)) for _ in range(args.repeats)]
    t_hand, t_harness = min(p[0] for p in pairs), min(p[1] for p in pairs)
    print(
        f"MLP training: hand-written {t_hand:.3f}s (compile {hand_compile:.1f}s), "
        f"harness {t_harness:.3f}s (compile {harness_compile:.1f}s)"
    )
    print(f"RATIO harness / hand-written = {t_harness / t_hand:.3f}   (goal <= 1.05)")

    for method in args.methods:
        fn = harness_program(method, ds, args.steps)
        keys = seed_keys(0, args.seeds)
        vm_t = sq_t = float("inf")
        for _ in range(max(1, args.repeats - 1)):  # interleaved, best of
            _, vm = run_seeds(fn, keys, vmap=True)
            _, sq = run_seeds(fn, keys, vmap=False)
            vm_t, sq_t = min(vm_t, vm.run_seconds), min(sq_t, sq.run_seconds)
        print(
            f"{method}: {args.seeds} seeds vmapped {vm_t:.2f}s, sequential {sq_t:.2f}s "
            f"(compile {vm.compile_seconds:.1f}s / {sq.compile_seconds:.1f}s)"
        )
        print(f"RATIO {method} vmapped / sequential = {vm_t / sq_t:.3f}   (goal <= 0.5 on CPU)")


if __name__ == "__main__":
    main()
