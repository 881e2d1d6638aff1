"""Attack suite on a standard-trained MLP: accuracies, flags and wall time per attack.

    .venv/bin/python benchmarks/attacks_speed.py --dataset mnist1d --eps 0.1 --n 1000
    .venv/bin/python benchmarks/attacks_speed.py --dataset blobs --norm l2 --eps 0.5

mnist1d inputs are standardised by mnist1d itself, so the box is unbounded (±inf); "blobs" is a
generated 5-class set of 1-D signals (16, 2) in [0, 1]. Timings include compilation (first
batch) and are for whatever machine runs this.
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.tree_util import Partial

import ntkbench.attacks as A


def mlp_init(key, d, widths, c):
    params, sizes = [], (d, *widths, c)
    for k, (a, b) in zip(jax.random.split(key, len(sizes) - 1), zip(sizes, sizes[1:])):
        params.append((jax.random.normal(k, (a, b)) * jnp.sqrt(2.0 / a), jnp.zeros(b)))
    return params


def mlp_apply(params, x):
    h = x.reshape(x.shape[0], -1)
    for i, (w, b) in enumerate(params):
        h = h @ w + b
        if i < len(params) - 1:
            h = jax.nn.relu(h)
    return h


def load(name, n_test):
    if name == "mnist1d":
        from ntkbench.data import load_dataset

        ds = load_dataset("mnist1d")
        return (
            jnp.asarray(ds.x_train),
            jnp.asarray(ds.y_train),
            jnp.asarray(ds.x_test[:n_test]),
            jnp.asarray(ds.y_test[:n_test]),
            ds.num_classes,
            (-jnp.inf, jnp.inf),
        )
    c, shape = 5, (16, 2)
    t = jax.random.uniform(jax.random.PRNGKey(123), (c,) + shape, minval=0.25, maxval=0.75)

    def draw(key, n):
        ky, kn = jax.random.split(key)
        y = jax.random.randint(ky, (n,), 0, c)
        return jnp.clip(t[y] + 0.15 * jax.random.normal(kn, (n,) + shape), 0, 1), y

    xtr, ytr = draw(jax.random.PRNGKey(0), 2000)
    xte, yte = draw(jax.random.PRNGKey(1), n_test)
    return xtr, ytr, xte, yte, c, (0.0, 1.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="mnist1d", choices=["mnist1d", "blobs"])
    ap.add_argument("--norm", default="linf", choices=["linf", "l2"])
    ap.add_argument("--eps", type=float, default=0.1)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--batch-size", type=int, default=500)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--attacks", default="fgsm,pgd,apgd-ce,apgd-t,random-search")
    args = ap.parse_args()

    xtr, ytr, xte, yte, c, (lo, hi) = load(args.dataset, args.n)
    params = mlp_init(jax.random.PRNGKey(0), int(np.prod(xtr.shape[1:])), (256, 256), c)
    opt = optax.adam(1e-3)
    state = opt.init(params)

    @jax.jit
    def step(p, s, k):
        idx = jax.random.randint(k, (128,), 0, xtr.shape[0])
        g = jax.grad(
            lambda p: optax.softmax_cross_entropy_with_integer_labels(mlp_apply(p, xtr[idx]), ytr[idx]).mean()
        )(p)
        u, s = opt.update(g, s)
        return optax.apply_updates(p, u), s

    t0 = time.time()
    for i in range(args.steps):
        params, state = step(params, state, jax.random.PRNGKey(i))
    fn = Partial(mlp_apply, params)
    print(f"trained MLP 2x256 on {args.dataset} in {time.time() - t0:.1f}s")

    threat = A.ThreatModel(args.norm, args.eps, lower=lo, upper=hi)
    accs, times = {}, {}
    per_point = {}
    for name in args.attacks.split(","):
        t0 = time.time()
        r = A.evaluate_attacks(fn, xte, yte, threat, jax.random.PRNGKey(1), attacks=(name,), batch_size=args.batch_size)
        times[name] = round(time.time() - t0, 2)
        accs["clean"] = r.accs["clean"]
        accs[name] = r.accs[name]
        per_point[name] = r.correct[name]
    robust = np.logical_and.reduce([per_point[k] for k in per_point])
    accs["robust"] = float(100 * robust.mean())
    print(
        json.dumps(
            {
                "dataset": args.dataset,
                "n": int(xte.shape[0]),
                "norm": args.norm,
                "eps": args.eps,
                "accs": accs,
                "seconds": times,
                "flags": A.reliability_flags(accs, tol=max(0.5, 100 / xte.shape[0])),
                "backend": jax.default_backend(),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
