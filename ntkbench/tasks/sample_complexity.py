"""Sample complexity, CNN vs MLP (`sample_complexity`, protocol version 1).

Protocol (shared/PROTOCOLS.md §2):
- For each training-set size n on the budget's grid `n`, the harness draws a seeded,
  class-balanced subset of n training examples (the same subsets for every method: the subset key
  depends on the seed and n only), hands it to the method as `Split(x, y, num_classes)`, and the
  method returns a predictor x -> logits. The harness computes test accuracy on the full test
  split (or its first `test_points`). Metrics: `test_acc@n=<n>` (percent, mean ± std over seeds).
- n*(target) for each target of the budget: the smallest n whose MEAN accuracy reaches the target,
  interpolated linearly in log n between the grid points around the first crossing; `None` when
  the target is not reached on the grid ("> n_max"). Metric `n_star@<target>`: `mean` is n* of
  the mean curve, `per_seed` the same rule on each seed's curve.
- On `lza-<d>` datasets, `aggregate` fits the exponent α of n*(target) ∝ d^α over the grid of d
  each method ran on (least squares in log-log over the d where n* was reached), written as a
  derived result on dataset `lza` with metric `alpha@<target>`.
Method contract: `fn(key, train: Split, **params) -> predictor`; the predictor must map (B, ...)
inputs to finite (B, num_classes) logits. Seeds are vmapped when the method is pure.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ntkbench.engine.kernel_predictor import arch_of, centred_one_hot, krr_predictor
from ntkbench.engine.seeds import predict_in_chunks, run_seeds, seed_keys
from ntkbench.engine.train import Split
from ntkbench.data.subsets import class_balanced_indices
from ntkbench.results import metric
from ntkbench.tasks.base import ContractError, RunContext, Task, TaskOutput

SUBSET_TAG, METHOD_TAG = 0, 1

_MNIST1D = "greydanus/mnist1d README (Greydanus & Kobak 2024), test accuracy with 4000 training examples"
_FULL = {"n": [4000], "targets": [60.0], "ntk_view": False}
PUBLISHED = [
    {"name": f"{data}-{m}", "task": "sample_complexity", "dataset": data, "method": m,
     "params": {}, "budget": _FULL, "metric": "test_acc@n=4000", "value": value, "tolerance": 5.0, "seeds": 3,
     "source": _MNIST1D + (" (shuffled)" if "shuffled" in data else ""),
     "hardware": "any; 2 CPU cores: ~1 min (mlp) / ~3 min (cnn) for 3 seeds"}
    for data, m, value in (("mnist1d", "mlp", 68.0), ("mnist1d", "cnn", 94.0),
                           ("mnist1d-shuffled", "mlp", 68.0), ("mnist1d-shuffled", "cnn", 56.0))
]


def n_star(ns, accs, target: float) -> float | None:
    """Smallest n with acc ≥ target, interpolated in log n at the first crossing; None if never."""
    ns, accs = np.asarray(ns, float), np.asarray(accs, float)
    order = np.argsort(ns)
    ns, accs = ns[order], accs[order]
    hits = np.nonzero(accs >= target)[0]
    if hits.size == 0:
        return None
    i = int(hits[0])
    if i == 0:
        return float(ns[0])
    lo, hi = np.log(ns[i - 1]), np.log(ns[i])
    frac = (target - accs[i - 1]) / (accs[i] - accs[i - 1])
    return float(np.exp(lo + frac * (hi - lo)))


def fit_exponent(ds, ys) -> float | None:
    """Slope of log y against log d (least squares); None with fewer than two points."""
    pts = [(math.log(d), math.log(y)) for d, y in zip(ds, ys) if y is not None]
    if len(pts) < 2:
        return None
    x, y = np.array(pts).T
    return float(np.polyfit(x, y, 1)[0])


def target_label(target: float) -> str:
    return f"{target:g}"


def ntk_view(ctx: RunContext, grid, acc_by_n, x_train, x_test, y_test) -> dict:
    """Infinite-width NTK regression on the same subsets the finite network saw, the finite −
    infinite gap per n, and the spectral view of each training Gram (share of label energy in the
    top-k eigendirections; kernel-target alignment)."""
    from ntkbench.kernels import kernel_target_alignment, label_energy_share

    ds, budget = ctx.dataset, ctx.budget
    arch = arch_of(ctx.method, ctx.params, ds.num_classes)
    if arch is None:
        return {"note": f"method {ctx.method.name!r} declares no architecture (arch= hook); no NTK view"}
    seeds = min(budget["ntk_seeds"], ctx.seeds)
    infinite, gap, energy, align = {}, {}, {}, {}
    for n in [n for n in grid if n <= budget["ntk_max_n"]]:
        accs, shares, aligns = [], [], []
        for s in range(seeds):
            key = seed_keys(ctx.root_seed, ctx.seeds, n)[s]
            idx = np.asarray(class_balanced_indices(jax.random.fold_in(key, SUBSET_TAG), ds.y_train, n, ds.num_classes))
            x, y = np.asarray(x_train)[idx], ds.y_train[idx]
            predict, k_tt = krr_predictor(arch, "ntk", x, y, ds.num_classes, return_gram=True)
            accs.append(float((np.asarray(predict(x_test)).argmax(-1) == np.asarray(y_test)).mean() * 100))
            targets = centred_one_hot(y, ds.num_classes)
            shares.append(float(label_energy_share(k_tt, targets, min(budget["ntk_top_k"], n))))
            aligns.append(float(kernel_target_alignment(k_tt, targets)))
        name = f"test_acc@n={n}"
        infinite[name] = metric(accs)
        finite = float(acc_by_n[n][:seeds].mean())
        gap[name] = finite - infinite[name]["mean"]
        energy[f"n={n}"], align[f"n={n}"] = metric(shares), metric(aligns)
        ctx.log(f"n={n}: infinite-width NTK {infinite[name]['mean']:.1f} (finite − infinite {gap[name]:+.1f}), "
                f"top-{budget['ntk_top_k']} label energy {energy[f'n={n}']['mean']:.2f}")
    return {"kernel": "ntk", "arch": arch.__dict__ | {"widths": list(arch.widths), "dense": list(arch.dense)},
            "seeds": seeds, "infinite": infinite, "finite_minus_infinite": gap,
            f"label_energy_top{budget['ntk_top_k']}": energy, "kernel_target_alignment": align}


class SampleComplexity(Task):
    name = "sample_complexity"
    version = 1
    budget_defaults = {
        "n": [100, 200, 500, 1000, 2000, 4000],
        "targets": [60.0, 80.0, 90.0],
        "test_points": None,  # None: the whole test split
        "ntk_view": True,  # infinite-width prediction of the method's architecture beside each n
        "ntk_seeds": 1,  # seeds (the first ones) the NTK view is computed for
        "ntk_max_n": 4000,  # largest n of the NTK view (conv kernels cost O(n²) on the host)
        "ntk_top_k": 10,  # label energy in the top-k eigendirections of the training Gram
    }
    datasets = ("mnist1d", "mnist1d-shuffled", "lza-<d>", "fashion_mnist", "cifar10")

    def run(self, ctx: RunContext) -> TaskOutput:
        ds, spec, budget = ctx.dataset, ctx.method, ctx.budget
        x_train, y_train = jnp.asarray(ds.x_train), jnp.asarray(ds.y_train)
        test_points = budget["test_points"] or len(ds.y_test)
        x_test, y_test = jnp.asarray(ds.x_test[:test_points]), jnp.asarray(ds.y_test[:test_points])
        grid = sorted(int(n) for n in budget["n"])
        too_big = [n for n in grid if n > len(ds.y_train)]
        if too_big:
            raise ValueError(f"budget field 'n': {too_big[0]} exceeds the {len(ds.y_train)} training examples of {ds.name!r}")

        acc_by_n: dict[int, np.ndarray] = {}
        for n in grid:
            def one_seed(key, n=n):
                idx = class_balanced_indices(jax.random.fold_in(key, SUBSET_TAG), ds.y_train, n, ds.num_classes)
                train = Split(x_train[idx], y_train[idx], ds.num_classes)
                predictor = spec.fn(jax.random.fold_in(key, METHOD_TAG), train, **ctx.params)
                if not callable(predictor):
                    raise ContractError(f"method {spec.name!r} must return a predictor (x -> logits), got {type(predictor).__name__}")
                logits = predict_in_chunks(predictor, x_test) if spec.jittable else jnp.asarray(predictor(x_test))
                want = (x_test.shape[0], ds.num_classes)
                if tuple(logits.shape) != want:
                    raise ContractError(f"method {spec.name!r}: predictor returned logits of shape {tuple(logits.shape)}, expected {want}")
                finite = jnp.all(jnp.isfinite(logits))
                return (logits.argmax(-1) == y_test).mean() * 100.0, finite

            keys = seed_keys(ctx.root_seed, ctx.seeds, n)
            (accs, finite), timing = run_seeds(one_seed, keys, vmap=ctx.vmap_seeds, jit=spec.jittable)
            ctx.timing.add(timing)
            bad = [i for i, f in enumerate(np.asarray(finite)) if not f]
            if bad:
                raise ContractError(f"method {spec.name!r} returned non-finite logits (NaN/inf) at n={n} for seeds {bad}")
            acc_by_n[n] = np.asarray(accs, float)
            ctx.log(f"n={n}: {acc_by_n[n].mean():.1f} ± {acc_by_n[n].std():.1f}  "
                    f"(compile {timing.compile_seconds:.1f}s, run {timing.run_seconds:.1f}s)")

        metrics = {f"test_acc@n={n}": metric(a) for n, a in acc_by_n.items()}
        mean_curve = [acc_by_n[n].mean() for n in grid]
        for target in budget["targets"]:
            per_seed = [n_star(grid, [acc_by_n[n][s] for n in grid], target) for s in range(ctx.seeds)]
            metrics[f"n_star@{target_label(target)}"] = metric(per_seed, mean=n_star(grid, mean_curve, target))
        ntk = ntk_view(ctx, grid, acc_by_n, x_train, x_test, y_test) if budget["ntk_view"] else {}
        return TaskOutput(metrics=metrics, ntk=ntk, extra={"grid": grid})

    def aggregate(self, records: list[dict]) -> list[dict]:
        """α of n* ∝ d^α per (method, params, targets) over the lza-<d> runs present."""
        groups: dict[str, list[dict]] = {}
        for r in records:
            if r["status"] == "ok" and r["dataset"].startswith("lza-"):
                key = repr((r["method"], r["method_version"], sorted(r["params"].items()), r["budget"], r["seeds"], r["root_seed"]))
                groups.setdefault(key, []).append(r)
        derived = []
        for group in groups.values():
            if len(group) < 2:
                continue
            group.sort(key=lambda r: int(r["dataset"].split("-")[1]))
            dims = [int(r["dataset"].split("-")[1]) for r in group]
            metrics: dict[str, Any] = {}
            for target in group[0]["budget"]["targets"]:
                name = f"n_star@{target_label(target)}"
                seeds = group[0]["seeds"]
                per_seed = [fit_exponent(dims, [r["metrics"][name]["per_seed"][s] for r in group]) for s in range(seeds)]
                metrics[f"alpha@{target_label(target)}"] = metric(
                    per_seed, mean=fit_exponent(dims, [r["metrics"][name]["mean"] for r in group]))
                for d, r in zip(dims, group):
                    metrics[f"{name}@d={d}"] = r["metrics"][name]
            derived.append({"dataset": "lza", "source_runs": [r["config_hash"] for r in group], "dims": dims,
                            "template": group[0], "metrics": metrics})
        return derived


TASK = SampleComplexity()
