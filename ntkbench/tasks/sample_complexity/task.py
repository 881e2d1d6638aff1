"""The `sample_complexity` task: the protocol (see the package docstring) as a `Task`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ntkbench.data.base import Dataset
from ntkbench.data.registry import train_size
from ntkbench.data.subsets import balanced_quota, class_balanced_indices, padded_class_balanced_indices
from ntkbench.engine.seeds import SeedPrograms, Timing, predict_in_chunks, run_seeds, seed_keys
from ntkbench.engine.train import NotPaddable, Split
from ntkbench.results import metric
from ntkbench.tasks.base import ContractError, RunContext, Task, TaskOutput
from ntkbench.tasks.sample_complexity import figures
from ntkbench.tasks.sample_complexity.budget import Budget as SampleComplexityBudget
from ntkbench.tasks.sample_complexity.claims import CLAIMS
from ntkbench.tasks.sample_complexity.metrics import METRICS, fit_exponent, n_star, target_label
from ntkbench.tasks.sample_complexity.ntk import SUBSET_TAG, ntk_view
from ntkbench.tasks.sample_complexity.published import PUBLISHED

METHOD_TAG = 1  # the method's key's tag (the subset's is SUBSET_TAG)


def _cg_summary(info: Any) -> dict[str, Any]:
    """What an iterative kernel fit did (its approximation is part of the result)."""
    return {
        "solver": info.solver,
        "iterations": info.iterations,
        "residual": info.residual,
        "nystrom_rank": info.rank,
        "seconds": round(info.seconds, 1),
    }


class SampleComplexity(Task):
    name = "sample_complexity"
    version = 1
    Budget = SampleComplexityBudget
    metrics = METRICS
    published = PUBLISHED
    claims = CLAIMS
    datasets = ("mnist1d", "mnist1d-shuffled", "lza-<d>", "fashion_mnist", "cifar10")
    # A learning curve may extend the protocol's grid (n up to the whole training set), not drop
    # from it: `n` and `targets` must contain the protocol's (`grid_deviations`).
    grid_fields = frozenset({"n", "targets"})
    train_count_fields = frozenset({"n"})

    def grid_deviations(self, dataset: str, budget: SampleComplexityBudget) -> list[str]:
        out = []
        protocol = SampleComplexityBudget()
        for field in ("n", "targets"):
            missing = sorted(set(map(float, getattr(protocol, field))) - set(map(float, getattr(budget, field))))
            if missing:
                out.append(f"{field} without " + ", ".join(f"{v:g}" for v in missing))
        return out

    def run(self, ctx: RunContext[SampleComplexityBudget]) -> TaskOutput:
        ds, spec, budget = ctx.dataset, ctx.method, ctx.budget
        x_train, y_train = jnp.asarray(ds.x_train), jnp.asarray(ds.y_train)
        test_points = budget.test_points or len(ds.y_test)
        x_test, y_test = jnp.asarray(ds.x_test[:test_points]), jnp.asarray(ds.y_test[:test_points])
        grid = sorted(budget.n)
        too_big = [n for n in grid if n > len(ds.y_train)]
        if too_big:
            raise ValueError(
                f"budget field 'n': {too_big[0]} exceeds the {len(ds.y_train)} training examples of {ds.name!r}"
            )

        solver_by_n: dict[str, list] = {}  # iterative kernel fits, per n (a dense fit is exact)

        def evaluate(
            predictor: Any, x_test: jax.Array, y_test: jax.Array, n: int | None = None
        ) -> tuple[jax.Array, jax.Array]:
            # An eager kernel predictor says how it was fitted (n is static there; in a compiled
            # curve n is traced, and a jitted method returns no fit info).
            info = getattr(predictor, "info", None)
            if n is not None and getattr(info, "solver", None) == "cg":
                solver_by_n.setdefault(str(n), []).append(_cg_summary(info))
            if not callable(predictor):
                raise ContractError(
                    f"method {spec.name!r} must return a predictor (x -> logits), got {type(predictor).__name__}"
                )
            logits = predict_in_chunks(predictor, x_test) if spec.jittable else jnp.asarray(predictor(x_test))
            want = (x_test.shape[0], ds.num_classes)
            if tuple(logits.shape) != want:
                raise ContractError(
                    f"method {spec.name!r}: predictor returned logits of shape {tuple(logits.shape)}, expected {want}"
                )
            return (logits.argmax(-1) == y_test).mean() * 100.0, jnp.all(jnp.isfinite(logits))

        # The data are inputs of the programs, not constants in them: datasets of one shape share
        # compiled programs (mnist1d-shuffled's are mnist1d's). The labels that choose a subset
        # are concrete (its class quotas), so they stay in the program.
        data = (x_train, y_train, x_test, y_test)

        def one_seed(
            key: jax.Array, x_train: jax.Array, y_train: jax.Array, x_test: jax.Array, y_test: jax.Array, n: int
        ) -> tuple[jax.Array, jax.Array]:
            idx = class_balanced_indices(jax.random.fold_in(key, SUBSET_TAG), ds.y_train, n, ds.num_classes)
            train = Split(x_train[idx], y_train[idx], ds.num_classes)
            return evaluate(spec.fn(jax.random.fold_in(key, METHOD_TAG), train, **ctx.params), x_test, y_test, n)

        counts = np.bincount(ds.y_train, minlength=ds.num_classes)
        quotas = {n: balanced_quota(counts, n) for n in grid}
        acc_by_n: dict[int, np.ndarray] = {}
        one_fit: set[int] = set()  # n at which every seed drew the same examples and one fit served all
        # A method that reads its data only through the trainer (`padded_subsets=True`) gets one
        # compiled program for the whole curve: the subset padded to the largest n, n traced.
        # Where its recipe cannot keep the minibatches of the unpadded subset (a batch larger
        # than the smallest n), the smallest n runs apart and the rest share the program.
        shared = list(grid) if spec.extras.get("padded_subsets") and spec.jittable else []
        programs = SeedPrograms(ctx.vmap_seeds, Timing())
        for n in grid:
            keys = seed_keys(ctx.root_seed, ctx.seeds, n)
            timing = Timing()
            programs.timing = timing
            while n in shared and len(shared) > 1:
                size, least = max(shared), min(shared)
                max_quota = np.max([quotas[m] for m in shared], axis=0)

                def curve_seed(
                    key: jax.Array,
                    quota: jax.Array,
                    count: jax.Array,
                    x_train: jax.Array,
                    y_train: jax.Array,
                    x_test: jax.Array,
                    y_test: jax.Array,
                    size: int = size,
                    least: int = least,
                    max_quota: np.ndarray = max_quota,
                ) -> tuple[jax.Array, jax.Array]:
                    k_subset = jax.random.fold_in(key, SUBSET_TAG)
                    idx = padded_class_balanced_indices(k_subset, ds.y_train, quota, max_quota, size)
                    train = Split(x_train[idx], y_train[idx], ds.num_classes, count=count, min_count=least)
                    return evaluate(spec.fn(jax.random.fold_in(key, METHOD_TAG), train, **ctx.params), x_test, y_test)

                try:
                    shared_args = (jnp.asarray(quotas[n]), jnp.int32(n), *data)
                    out = programs(f"curve{size}/{least}", curve_seed, (keys,), shared_args)
                    break
                except NotPaddable:
                    shared.remove(least)  # the smallest n runs apart; the others try again
            else:
                this_n = functools.partial(one_seed, n=n)
                if spec.jittable:
                    out = programs(f"n={n}", this_n, (keys,), data)
                else:  # eagerly, seed by seed
                    eager = lambda key, this_n=this_n: this_n(key, *data)  # noqa: E731
                    if spec.extras.get("deterministic"):
                        out, timing, distinct = self._run_distinct_subsets(eager, keys, ds, n, ctx.log)
                        if distinct == 1 and len(keys) > 1:
                            one_fit.add(n)
                    else:
                        out, timing = run_seeds(eager, keys, vmap=False, jit=False)
            accs, finite = out
            ctx.timing.add(timing)
            bad = [i for i, f in enumerate(np.asarray(finite)) if not f]
            if bad:
                raise ContractError(
                    f"method {spec.name!r} returned non-finite logits (NaN/inf) at n={n} for seeds {bad}"
                )
            acc_by_n[n] = np.asarray(accs, float)
            ctx.log(
                f"n={n}: {acc_by_n[n].mean():.1f} ± {acc_by_n[n].std():.1f}  "
                f"(compile {timing.compile_seconds:.1f}s, run {timing.run_seconds:.1f}s)"
            )

        # one fit served every seed (the whole training set, a deterministic method): one sample
        metrics = {f"test_acc@n={n}": metric(a, deterministic=n in one_fit) for n, a in acc_by_n.items()}
        mean_curve = [acc_by_n[n].mean() for n in grid]
        for target in budget.targets:
            per_seed = [n_star(grid, [acc_by_n[n][s] for n in grid], target) for s in range(ctx.seeds)]
            # censored above the grid's largest n (never reached) and at its smallest (reached there
            # already: n* is only known to be at most that); never averaged (`metric`)
            metrics[f"n_star@{target_label(target)}"] = metric(
                per_seed, mean=n_star(grid, mean_curve, target), bound=max(grid), floor=min(grid)
            )
        ntk = ntk_view(ctx, grid, acc_by_n, x_train, x_test, y_test) if budget.ntk_view else {}
        extra: dict[str, Any] = {"grid": grid}
        if solver_by_n:
            extra["kernel_solver"] = solver_by_n
        return TaskOutput(metrics=metrics, ntk=ntk, extra=extra)

    @staticmethod
    def _run_distinct_subsets(
        this_n: Callable[[jax.Array], Any], keys: jax.Array, ds: Dataset, n: int, log: Callable[[str], None]
    ) -> tuple[Any, Timing, int]:
        """A `deterministic` method (its fit depends on the training examples alone, not on the
        key or their order) runs once per distinct subset: where the grid reaches the whole
        training set, every seed draws the same examples and one fit serves them all (at n = 60 000
        a CG fit of 5 to 30 minutes, by the memory its Gram-block cache gets). The first seed with
        the subset runs; the others copy it. Returns the outputs, the timing and how many fits ran."""
        subsets = [
            np.sort(
                np.asarray(class_balanced_indices(jax.random.fold_in(k, SUBSET_TAG), ds.y_train, n, ds.num_classes))
            )
            for k in keys
        ]
        first: dict[bytes, int] = {}
        owner = [first.setdefault(idx.tobytes(), s) for s, idx in enumerate(subsets)]
        runs = sorted(set(owner))
        if len(runs) < len(owner):
            copies = [s for s, o in enumerate(owner) if o != s]
            log(f"n={n}: seeds {copies} draw the same examples as an earlier seed; one fit per distinct subset")
        out, timing = run_seeds(this_n, keys[np.asarray(runs)], vmap=False, jit=False)
        pick = np.asarray([runs.index(o) for o in owner])
        return jax.tree.map(lambda a: a[pick], out), timing, len(runs)

    def aggregate(self, records: list[dict]) -> list[dict]:
        """α of n* ∝ d^α per (method, params, targets) over the lza-<d> runs present."""
        groups: dict[str, list[dict]] = {}
        for r in records:
            if r["status"] == "ok" and r["dataset"].startswith("lza-"):
                key = repr(
                    (
                        r["method"],
                        r["method_version"],
                        sorted(r["params"].items()),
                        r["budget"],
                        r["seeds"],
                        r["root_seed"],
                    )
                )
                groups.setdefault(key, []).append(r)
        derived = []
        for group in groups.values():
            if len(group) < 2:
                continue
            group.sort(key=lambda r: int(r["dataset"].split("-")[1]))
            dims = [int(r["dataset"].split("-")[1]) for r in group]

            def exponent_of(n_stars: list[float | None], dims: list[int] = dims) -> float | None:
                return fit_exponent(dims, n_stars)  # over the uncensored n* (None with fewer than two)

            metrics: dict[str, Any] = {}
            for target in group[0]["budget"]["targets"]:
                name = f"n_star@{target_label(target)}"
                seeds = group[0]["seeds"]
                # The exponent is fitted through the uncensored n* only: a bound (never reached, or
                # at the grid's floor) is not a point of the line, and n* at the floor at every d
                # would fit a flat line of bounds, α = 0. Fewer than two points: no estimate.
                per_seed = [
                    exponent_of([uncensored(r["metrics"][name]["per_seed"][s], r) for r in group]) for s in range(seeds)
                ]
                mean = exponent_of([uncensored(r["metrics"][name]["mean"], r) for r in group])
                metrics[f"alpha@{target_label(target)}"] = metric(per_seed, mean=mean)
                for d, r in zip(dims, group):
                    metrics[f"{name}@d={d}"] = r["metrics"][name]
            derived.append(
                {
                    "dataset": "lza",
                    "source_runs": [r["config_hash"] for r in group],
                    "dims": dims,
                    "template": group[0],
                    "metrics": metrics,
                }
            )
        return derived

    def censoring(self, record: dict, metric: str) -> tuple[float | None, float | None]:
        grid = record.get("grid") or record["budget"].get("n") or []
        if metric.startswith("n_star@") and grid:
            return float(max(grid)), float(min(grid))
        return None, None

    def deterministic(self, record: dict, metric: str, method_extras: dict[str, Any]) -> bool:
        """test_acc at an n that is the whole training split, by a deterministic method: every seed
        drew the same examples and one fit served them all (`_run_distinct_subsets`)."""
        if not metric.startswith("test_acc@n=") or not method_extras.get("deterministic"):
            return False
        return int(metric.split("=")[1]) == train_size(record["dataset"])

    def own_mean(self, record: dict, metric: str) -> float | None:
        """n*(target) of the mean curve, from the mean test accuracy at each n of the grid."""
        target = metric.removeprefix("n_star@")
        grid = record.get("grid") or record["budget"].get("n") or []
        names = [f"test_acc@n={n}" for n in grid]
        if "@" in target or not metric.startswith("n_star@") or not grid or not set(names) <= set(record["metrics"]):
            return super().own_mean(record, metric)
        curve = [record["metrics"][name]["mean"] for name in names]
        return n_star(grid, curve, float(target))

    def figures(self, records: list[dict]) -> list[Any]:
        return figures.figures(records)


def uncensored(n_star_value: float | None, record: dict) -> float | None:
    """An n* value, or None where it is censored: not reached, or at the record's smallest n."""
    grid = record.get("grid") or record["budget"].get("n") or []
    if n_star_value is None or (grid and n_star_value <= min(grid)):
        return None
    return float(n_star_value)


TASK = SampleComplexity()
