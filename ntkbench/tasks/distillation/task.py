"""The `distillation` task: the protocol (see the package docstring) as a `Task`.

The method contract, `fn(key, train, ipc, *, ...) -> (x_syn, y_syn)`, is in the package docstring
(`ntkbench/tasks/distillation/__init__.py`); this task has no `contract.py`.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ntkbench.data import preprocess
from ntkbench.data.base import Dataset
from ntkbench.data.subsets import class_balanced_subset
from ntkbench.engine.seeds import Timing, run_seeds, seed_keys
from ntkbench.engine.train import Split
from ntkbench.kernels import kernel_fn
from ntkbench.results import metric
from ntkbench.tasks.base import ContractError, MetricSpec, RunContext, Task, TaskOutput
from ntkbench.tasks.distillation import figures
from ntkbench.tasks.distillation.budget import Budget as DistillationBudget
from ntkbench.tasks.distillation.claims import CLAIMS
from ntkbench.tasks.distillation.evaluation import (
    NetworkEval,
    augmentation,
    eval_archs,
    kernel_arch,
    krr_accuracy,
    label_targets,
)
from ntkbench.tasks.distillation.preview import encode_preview
from ntkbench.tasks.distillation.published import PUBLISHED

METHOD_TAG, EVAL_TAG = 1, 2
BASELINE_VERSION = "1"  # of `random_real_subset` (part of the baseline's cache key)
METRICS = (
    MetricSpec(
        "test_acc@convnet",
        unit="%",
        headline=True,
        description="ConvNet-3 trained from scratch on the synthetic set (the DC protocol)",
    ),
    MetricSpec("test_acc@<evaluation>", unit="%", description="another evaluation model trained on the synthetic set"),
    MetricSpec(
        "gain_over_random@convnet", unit="points", description="over a class-balanced random real subset of equal size"
    ),
)


def random_real_subset(key: jax.Array, train: Split, ipc: int) -> tuple[jax.Array, jax.Array]:
    """The `gain_over_random` baseline: a class-balanced random real subset of ipc per class, drawn
    with the same function (and, in `Distillation.random_baseline`, the same keys) as the
    reference `random` method, so the two give identical sets."""
    return class_balanced_subset(key, train.x, train.y, ipc, train.num_classes)


def check_shapes(who: str, out: Any, ipc: int, num_classes: int, input_shape: Sequence[int]) -> bool:
    """Shape checks at trace time; returns True for soft labels. Raises ContractError."""
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise ContractError(f"{who} must return (x_syn, y_syn), got {type(out).__name__}")
    x, y = out
    want = ipc * num_classes
    if x.ndim < 1 or x.shape[0] != want:
        raise ContractError(
            f"{who} returned {x.shape[0] if x.ndim else 0} examples, expected ipc {ipc} × "
            f"{num_classes} classes = {want}"
        )
    if tuple(x.shape[1:]) != tuple(input_shape):
        raise ContractError(
            f"{who} returned examples of shape {tuple(x.shape[1:])}, expected the input shape {tuple(input_shape)}"
        )
    if y.shape == (want,) and jnp.issubdtype(y.dtype, jnp.integer):
        return False
    if y.shape == (want, num_classes) and jnp.issubdtype(y.dtype, jnp.floating):
        return True
    raise ContractError(
        f"{who} returned labels of shape {tuple(y.shape)} ({y.dtype}); expected int labels "
        f"({want},) or soft labels ({want}, {num_classes})"
    )


def check_values(who: str, x: np.ndarray, y: np.ndarray, ipc: int, num_classes: int, soft: bool) -> None:
    """Value checks after the run (arrays with a leading seed axis)."""
    for s in range(x.shape[0]):
        if not np.all(np.isfinite(x[s])) or (soft and not np.all(np.isfinite(y[s]))):
            raise ContractError(f"{who} returned a synthetic set with NaN/inf values (seed {s})")
        if not soft:
            if y[s].min() < 0 or y[s].max() >= num_classes:
                raise ContractError(f"{who} returned labels outside 0..{num_classes - 1} (seed {s})")
            counts = np.bincount(y[s], minlength=num_classes)
            if np.any(counts != ipc):
                raise ContractError(
                    f"{who} returned {counts.tolist()} examples per class, expected ipc {ipc} of each class (seed {s})"
                )


class Distillation(Task):
    name = "distillation"
    version = 1
    Budget = DistillationBudget
    metrics = METRICS
    published = PUBLISHED
    claims = CLAIMS
    datasets = ("mnist1d", "fashion_mnist", "mnist", "cifar10")
    # ipc is the protocol's grid; the others are variants the protocol states (each recorded)
    grid_fields = frozenset({"ipc", "preprocess", "augment", "soft_label_loss", "kernel"})
    _random_cache: dict[str, dict] = {}

    def prepare(self, ds: Dataset, budget: DistillationBudget) -> Dataset:
        if budget.preprocess == "standardise":
            return preprocess.standardise(ds)
        if budget.preprocess == "zca":
            return preprocess.zca_whiten(ds)
        return ds

    def run(self, ctx: RunContext[DistillationBudget]) -> TaskOutput:
        budget, spec = ctx.budget, ctx.method
        ds = self.prepare(ctx.dataset, budget)
        ipc, C = budget.ipc, ds.num_classes
        counts = np.bincount(ds.y_train, minlength=C)
        if ipc < 1 or ipc > counts.min():
            raise ValueError(
                f"budget field 'ipc': {ipc} is outside 1..{counts.min()} (the smallest class of {ds.name!r})"
            )
        n_test = budget.test_points or len(ds.y_test)
        test = (jnp.asarray(ds.x_test[:n_test]), jnp.asarray(ds.y_test[:n_test]))
        train = Split(jnp.asarray(ds.x_train), jnp.asarray(ds.y_train), C)

        who = f"method {spec.name!r} from {spec.origin}"
        x_syn, y_syn, soft, t_distill = self.distill(spec.fn, who, ctx.params, train, ipc, ctx)
        ctx.log(
            f"distilled {ipc}x{C} ({'soft' if soft else 'hard'} labels) in {t_distill.run_seconds:.1f}s "
            f"(+{t_distill.compile_seconds:.1f}s compile)"
        )
        t0 = time.perf_counter()
        mine = self.evaluate(x_syn, y_syn, soft, ds, test, budget, ctx)
        eval_seconds = time.perf_counter() - t0
        ctx.log(
            "evaluation: "
            + ", ".join(f"{k} {np.mean(v):.1f}" for k, v in mine.items() if k != "networks")
            + f" ({eval_seconds:.1f}s)"
        )

        base = self.random_baseline(ds, train, test, ipc, budget, ctx, mine, x_syn, y_syn, soft)
        # KRR on the set is deterministic: where every seed distilled the same set (herding, and any
        # method that ignores its key), its KRR accuracies are one value, not a sample of seeds
        one_set = bool(np.all(np.asarray(x_syn) == np.asarray(x_syn)[:1])) and bool(
            np.all(np.asarray(y_syn) == np.asarray(y_syn)[:1])
        )
        metrics = {
            f"test_acc@{k}": metric(v, deterministic=one_set and k.startswith("krr") and len(v) > 1)
            for k, v in mine.items()
            if k != "networks"
        }
        if "convnet" in mine:
            metrics["gain_over_random@convnet"] = metric(np.asarray(mine["convnet"]) - np.asarray(base["convnet"]))
        kdesc = kernel_arch(C, ds.input_shape, budget)[1] if "krr" in budget.evaluations else None
        extra = {
            "labels": "soft" if soft else "hard",
            "distill_seconds": {"compile": t_distill.compile_seconds, "run": t_distill.run_seconds},
            "eval_seconds": eval_seconds,
            "eval_networks_acc": mine.get("networks", {}),
            "test_points": n_test,
            "preprocess": ds.meta.get("normalisation"),
            "kernel_used": kdesc,
            "augmentation": augmentation(ds.input_shape, budget),
            "synthetic_preview": encode_preview(x_syn[0], y_syn[0], C),
        }
        return TaskOutput(metrics=metrics, ntk=self.ntk_view(mine, base, kdesc, budget), extra=extra)

    def distill(
        self,
        fn: Callable,
        who: str,
        params: dict[str, Any],
        train: Split,
        ipc: int,
        ctx: RunContext[DistillationBudget],
    ) -> tuple[np.ndarray, np.ndarray, bool, Timing]:
        kind: dict[str, bool] = {}

        def one_seed(key: jax.Array) -> tuple[jax.Array, jax.Array]:
            out = fn(key, train, ipc, **params)
            kind["soft"] = check_shapes(who, out, ipc, train.num_classes, train.input_shape)
            x, y = out
            return jnp.asarray(x, jnp.float32), (
                jnp.asarray(y, jnp.float32) if kind["soft"] else jnp.asarray(y, jnp.int32)
            )

        keys = seed_keys(ctx.root_seed, ctx.seeds, METHOD_TAG)
        (x, y), timing = run_seeds(one_seed, keys, vmap=ctx.vmap_seeds)
        ctx.timing.add(timing)
        x, y = np.asarray(x), np.asarray(y)
        check_values(who, x, y, ipc, train.num_classes, kind["soft"])
        return x, y, kind["soft"], timing

    def evaluate(
        self,
        x_syn: np.ndarray,
        y_syn: np.ndarray,
        soft: bool,
        ds: Dataset,
        test: tuple[Any, Any],
        budget: DistillationBudget,
        ctx: RunContext[DistillationBudget],
    ) -> dict[str, Any]:
        """Per-seed accuracies of every evaluation in `budget.evaluations` (+ per-network lists)."""
        S, C, n_syn = x_syn.shape[0], ds.num_classes, x_syn.shape[1]
        eval_keys = seed_keys(ctx.root_seed, S, EVAL_TAG)
        out: dict[str, Any] = {"networks": {}}
        archs = eval_archs(C, budget)
        for name in ("convnet", "mlp"):
            if name not in budget.evaluations:
                continue
            t0 = time.perf_counter()
            ev = NetworkEval(archs[name], ds.input_shape, n_syn, soft, budget)
            per_net = [
                ev.accuracies(eval_keys[s], jnp.asarray(x_syn[s]), jnp.asarray(y_syn[s]), *test)[0] for s in range(S)
            ]
            ctx.timing.compile_seconds += ev.compile_seconds
            ctx.timing.run_seconds += time.perf_counter() - t0 - ev.compile_seconds
            out[name] = [float(a.mean()) for a in per_net]
            out["networks"][name] = [a.tolist() for a in per_net]
        if "krr" in budget.evaluations:
            arch = kernel_arch(C, ds.input_shape, budget)[0]
            for kind in ("ntk", "nngp"):
                k = kernel_fn(arch, ds.input_shape, kind)
                out[f"krr-{kind}"] = [
                    krr_accuracy(k, x_syn[s], label_targets(y_syn[s], C), *test, ridge=budget.krr_ridge)
                    for s in range(S)
                ]
        return out

    def _random_key(self, ds: Dataset, budget: DistillationBudget, ctx: RunContext[DistillationBudget]) -> str:
        return json.dumps(
            [
                ds.meta.get("fingerprint") or ds.fingerprint(),
                dataclasses.asdict(budget),
                ctx.seeds,
                ctx.root_seed,
                "random_real_subset",
                BASELINE_VERSION,
            ],
            sort_keys=True,
            default=str,
        )

    def random_baseline(
        self,
        ds: Dataset,
        train: Split,
        test: tuple[Any, Any],
        ipc: int,
        budget: DistillationBudget,
        ctx: RunContext[DistillationBudget],
        mine: dict[str, Any],
        x_syn: np.ndarray,
        y_syn: np.ndarray,
        soft: bool,
    ) -> dict[str, Any]:
        """The evaluation of `random_real_subset` with the same seeds, keys and evaluation as a
        method's (cached in-process: identical configurations give identical numbers; a method
        whose sets are exactly the baseline's, e.g. the reference `random`, is its own baseline)."""
        key = self._random_key(ds, budget, ctx)
        if key not in self._random_cache:
            sub = RunContext(
                method=ctx.method,
                dataset=ds,
                params={},
                budget=budget,
                seeds=ctx.seeds,
                root_seed=ctx.root_seed,
                vmap_seeds=True,
                log=ctx.log,
            )
            x, y, b_soft, _ = self.distill(random_real_subset, "the random-subset baseline", {}, train, ipc, sub)
            same = not soft and not b_soft and np.array_equal(x, x_syn) and np.array_equal(y, y_syn)
            self._random_cache[key] = mine if same else self.evaluate(x, y, b_soft, ds, test, budget, sub)
            ctx.timing.add(sub.timing)
        return self._random_cache[key]

    def ntk_view(
        self, mine: dict[str, Any], base: dict[str, Any], kdesc: str | None, budget: DistillationBudget
    ) -> dict[str, Any]:
        if "krr" not in budget.evaluations:
            return {"available": False, "reason": "budget 'evaluations' has no 'krr'"}
        finite = [k for k in ("convnet", "mlp") if k in mine]
        view: dict[str, Any] = {"available": True, "kernel": kdesc, "ridge": budget.krr_ridge}
        for label, res in (("synthetic", mine), ("random_subset", base)):
            view[label] = {k: float(np.mean(res[k])) for k in ("krr-ntk", "krr-nngp", *finite)}
            view[label]["finite_minus_krr_ntk"] = {k: float(np.mean(res[k]) - np.mean(res["krr-ntk"])) for k in finite}
        view["kernel_gain_over_random"] = {
            k: view["synthetic"][k] - view["random_subset"][k] for k in ("krr-ntk", "krr-nngp")
        }
        return view

    def deterministic(self, record: dict, metric: str, method_extras: dict[str, Any]) -> bool:
        """KRR accuracy where every seed distilled the same set (the run writes this from the sets;
        an older file shows it as one KRR value repeated over every seed)."""
        values = record["metrics"][metric]["per_seed"]
        return metric.startswith("test_acc@krr") and len(values) > 1 and len(set(values)) == 1

    def figures(self, records: list[dict]) -> list[Any]:
        return figures.figures(records)


TASK = Distillation()
