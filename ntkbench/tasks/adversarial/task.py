"""The `adversarial` task: the protocol (see the package docstring) as a `Task`."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.tree_util import Partial

from ntkbench.attacks import ThreatModel, as_logits_fn, evaluate_attacks, reliability_flags
from ntkbench.data.base import Dataset
from ntkbench.data.subsets import class_balanced_indices
from ntkbench.engine.seeds import run_seeds, seed_keys
from ntkbench.engine.train import Split
from ntkbench.results import metric
from ntkbench.tasks.adversarial import figures
from ntkbench.tasks.adversarial.budget import Budget as AdversarialBudget
from ntkbench.tasks.adversarial.claims import CLAIMS
from ntkbench.tasks.adversarial.ntk import ntk_view
from ntkbench.tasks.adversarial.published import PUBLISHED
from ntkbench.tasks.base import ContractError, MetricSpec, RunContext, Task, TaskOutput

SUBSET_TAG, METHOD_TAG, ATTACK_TAG = 0, 1, 2
ATTACKS = ("fgsm", "pgd", "apgd-ce", "apgd-t")
METRICS = (
    MetricSpec("clean_acc", unit="%", description="accuracy on the unperturbed test points"),
    MetricSpec("robust_acc", unit="%", headline=True, description="per-point worst case over the attack suite"),
    MetricSpec("robust_acc@eps=<eps>", unit="%", description="worst case over the attacks at another eps"),
    MetricSpec("robust_acc@<attack>", unit="%", description="accuracy under one attack"),
)
# The protocol's eps per norm and dataset; the sources are in the package docstring.
EPS = {
    "linf": {"mnist": 0.3, "fashion_mnist": 0.1, "cifar10": 8 / 255, "mnist1d": 0.1},
    "l2": {"fashion_mnist": 0.3, "cifar10": 0.5},
}


class _NotAPytree(Exception):
    """The method's predictor cannot leave a compiled program: seeds run in turn, eagerly."""


def _call(predictor: Callable[[jax.Array], jax.Array], x: jax.Array) -> jax.Array:
    return predictor(x)


@jax.jit
def _forward(fn: Callable[[jax.Array], jax.Array], x: jax.Array) -> jax.Array:
    return fn(x)


def logits_fn_of(predictor: Callable[[jax.Array], jax.Array]) -> Callable[[jax.Array], jax.Array]:
    """A jit-friendly logits function: pytree predictors as traced leaves (one compilation for all
    seeds), other callables as they are (static: one compilation each)."""
    leaves = jax.tree.leaves(predictor)
    if leaves and all(isinstance(a, jax.Array) for a in leaves):
        return Partial(_call, predictor)
    return as_logits_fn(predictor)


def resolve_threat(ds: Dataset, budget: AdversarialBudget) -> tuple[ThreatModel, dict[str, Any]]:
    """The threat model of an effective budget (`Adversarial.effective_budget` has set eps)."""
    norm, eps = budget.norm, budget.eps
    if eps is None:
        raise ValueError(
            f"budget field 'eps': the protocol has no {norm} eps for dataset {ds.name!r} "
            f"(it has {EPS[norm]}); set eps in the budget"
        )
    box: str | tuple[float, float] = budget.box
    lo_d = float(min(np.min(ds.x_train), np.min(ds.x_test)))
    hi_d = float(max(np.max(ds.x_train), np.max(ds.x_test)))
    if isinstance(box, tuple):
        lo, hi = box
    elif box == "auto":
        box = "[0, 1]" if lo_d >= 0.0 and hi_d <= 1.0 else "unbounded"
        lo, hi = (0.0, 1.0) if box == "[0, 1]" else (-np.inf, np.inf)
    elif box == "unbounded":
        lo, hi = -np.inf, np.inf
    else:  # "data"
        lo, hi = lo_d, hi_d
    threat = ThreatModel(norm, float(eps), float(lo), float(hi))
    info = {
        "norm": norm,
        "eps": float(eps),
        "box": box if isinstance(box, str) else "given",
        "lower": None if np.isinf(lo) else float(lo),
        "upper": None if np.isinf(hi) else float(hi),
        "data_range": [lo_d, hi_d],
    }
    return threat, info


def attack_settings(budget: AdversarialBudget, num_classes: int) -> dict[str, dict]:
    pgd: dict[str, Any] = {"steps": budget.pgd_steps, "restarts": budget.pgd_restarts, "random_start": True}
    if budget.pgd_step_size is not None:  # None: the attack's own 2.5 * eps / steps
        pgd["step_size"] = budget.pgd_step_size
    return {
        "fgsm": {},
        "pgd": pgd,
        "apgd-ce": {"n_iter": budget.apgd_iters, "restarts": budget.apgd_restarts},
        "apgd-t": {"n_iter": budget.apgd_t_iters, "n_target_classes": min(budget.apgd_t_targets, num_classes - 1)},
    }


class Adversarial(Task):
    name = "adversarial"
    version = 1
    Budget = AdversarialBudget
    metrics = METRICS
    published = PUBLISHED
    claims = CLAIMS
    datasets = ("mnist", "fashion_mnist", "cifar10", "mnist1d")
    # the threat point (norm, eps), extra diagnostics (eps_sweep) and batching (memory only)
    grid_fields = frozenset({"norm", "eps", "eps_sweep", "attack_batch"})

    def effective_budget(self, dataset: str, budget: AdversarialBudget) -> AdversarialBudget:
        """`eps` None is the protocol's eps for the dataset and norm (kept None where it has none:
        `resolve_threat` says so)."""
        if budget.eps is None and dataset in EPS[budget.norm]:
            return dataclasses.replace(budget, eps=EPS[budget.norm][dataset])
        return budget

    def run(self, ctx: RunContext[AdversarialBudget]) -> TaskOutput:
        ds, spec, budget = ctx.dataset, ctx.method, ctx.budget
        threat, threat_info = resolve_threat(ds, budget)
        x_tr, y_tr = np.asarray(ds.x_train), np.asarray(ds.y_train)
        if budget.train_examples is not None:
            idx = np.sort(
                np.asarray(
                    class_balanced_indices(
                        jax.random.fold_in(jax.random.key(ctx.root_seed), SUBSET_TAG),
                        y_tr,
                        budget.train_examples,
                        ds.num_classes,
                    )
                )
            )
            x_tr, y_tr = x_tr[idx], y_tr[idx]
        train = Split(jnp.asarray(x_tr), jnp.asarray(y_tr, jnp.int32), ds.num_classes)
        n_test = min(budget.test_points, len(ds.y_test))
        x_test, y_test = jnp.asarray(ds.x_test[:n_test]), jnp.asarray(ds.y_test[:n_test], jnp.int32)
        settings = attack_settings(budget, ds.num_classes)
        who = f"method {spec.name!r} from {spec.origin}"

        predictors, mode = self._train(ctx, train, threat, who)
        attack_keys = seed_keys(ctx.root_seed, ctx.seeds, ATTACK_TAG)
        accs: dict[str, list[float]] = {k: [] for k in ("clean", *ATTACKS, "robust")}
        sweep = sorted(budget.eps_sweep)
        curves, flags, zero_grad, seconds = [], [], [], []
        for s, pred in enumerate(predictors):
            fn = logits_fn_of(pred)
            self._check_logits(fn, x_test, ds.num_classes, who, s)
            t0 = time.perf_counter()
            rep = evaluate_attacks(
                fn,
                x_test,
                y_test,
                threat,
                attack_keys[s],
                attacks=ATTACKS,
                batch_size=budget.attack_batch,
                attack_kwargs=settings,
            )
            for k in accs:
                accs[k].append(rep.accs[k])
            curve = {threat.eps: rep.accs["robust"]}
            for e in sweep:
                curve[e] = evaluate_attacks(
                    fn,
                    x_test,
                    y_test,
                    dataclasses.replace(threat, eps=e),
                    attack_keys[s],
                    attacks=ATTACKS,
                    batch_size=budget.attack_batch,
                    attack_kwargs=settings,
                ).accs["robust"]
            seconds.append(time.perf_counter() - t0)
            ctx.timing.run_seconds += seconds[-1]
            seed_flags = list(rep.flags)
            if sweep:
                seed_flags += reliability_flags({}, eps_curve=curve, tol=max(0.5, 100.0 / n_test))
            flags += [f"{f} [seed {s}]" for f in seed_flags]
            curves.append(curve)
            zero_grad.append(rep.zero_grad_frac)
            ctx.log(
                f"seed {s}: clean {rep.accs['clean']:.1f}, "
                + ", ".join(f"{a} {rep.accs[a]:.1f}" for a in ATTACKS)
                + f", robust {rep.accs['robust']:.1f} "
                f"({seconds[-1]:.1f}s){' FLAGS: ' + '; '.join(seed_flags) if seed_flags else ''}"
            )

        metrics = {"clean_acc": metric(accs["clean"])}
        metrics.update({f"robust_acc@{a}": metric(accs[a]) for a in ATTACKS})
        metrics.update({f"robust_acc@eps={e:g}": metric([c[e] for c in curves]) for e in sweep})
        metrics["robust_acc"] = metric(accs["robust"])

        ntk = (
            ntk_view(ds, budget, threat, ctx.root_seed, predictors, x_test, log=ctx.log)
            if budget.ntk_view
            else {"available": False, "reason": "budget ntk_view = false"}
        )
        extra = {
            "flags": flags,
            "threat": threat_info,
            "attacks": settings,
            "test_points": n_test,
            "train_examples": int(train.n),
            "seeds_mode": mode,
            "zero_grad_frac": zero_grad,
            "attack_seconds": seconds,
        }
        return TaskOutput(metrics=metrics, ntk=ntk, extra=extra)

    def _train(
        self, ctx: RunContext[AdversarialBudget], train: Split, threat: ThreatModel, who: str
    ) -> tuple[list[Any], str]:
        spec = ctx.method

        def one_seed(key: jax.Array) -> Any:
            pred = spec.fn(key, train, threat, **ctx.params)
            if not callable(pred):
                raise ContractError(f"{who} must return a predictor (x -> logits), got {type(pred).__name__}")
            leaves = jax.tree.leaves(pred)
            if not leaves or not all(isinstance(a, jax.Array) for a in leaves):
                raise _NotAPytree()
            return pred

        keys = seed_keys(ctx.root_seed, ctx.seeds, METHOD_TAG)
        try:
            stacked, timing = run_seeds(one_seed, keys, vmap=ctx.vmap_seeds)
        except _NotAPytree:  # not an error: the fallback path for closures
            t0 = time.perf_counter()
            preds = [spec.fn(k, train, threat, **ctx.params) for k in keys]
            if not all(callable(p) for p in preds):
                raise ContractError(f"{who} must return a predictor (x -> logits)") from None
            ctx.timing.run_seconds += time.perf_counter() - t0
            ctx.log(
                f"trained {ctx.seeds} seeds in turn, eagerly (the predictor is not a pytree) "
                f"in {time.perf_counter() - t0:.1f}s"
            )
            return preds, "in turn, eager (predictor is not a pytree of arrays)"
        ctx.timing.add(timing)
        ctx.log(f"trained {ctx.seeds} seeds (compile {timing.compile_seconds:.1f}s, run {timing.run_seconds:.1f}s)")
        preds = [jax.tree.map(lambda a, s=s: a[s], stacked) for s in range(ctx.seeds)]
        return preds, "vmapped" if ctx.vmap_seeds else "in turn, jitted"

    @staticmethod
    def _check_logits(
        fn: Callable[[jax.Array], jax.Array], x: jax.Array, num_classes: int, who: str, seed: int
    ) -> None:
        logits = _forward(fn, x[: min(len(x), 500)])
        want = (min(len(x), 500), num_classes)
        if tuple(logits.shape) != want:
            raise ContractError(f"{who}: predictor returned logits of shape {tuple(logits.shape)}, expected {want}")
        if not bool(jnp.all(jnp.isfinite(logits))):
            raise ContractError(f"{who} returned non-finite logits (NaN/inf) on clean test inputs for seed {seed}")

    def figures(self, records: list[dict]) -> list[Any]:
        return figures.figures(records)


TASK = Adversarial()
