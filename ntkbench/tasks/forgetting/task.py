"""The `forgetting` task: the protocol (see the package docstring) as a `Task`."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ntkbench.data.base import Dataset
from ntkbench.data.registry import forbid_data_access
from ntkbench.data.streams import Stream, make_stream
from ntkbench.data.subsets import class_balanced_indices
from ntkbench.engine.seeds import SeedPrograms, predict_in_chunks, seed_keys
from ntkbench.results import metric
from ntkbench.tasks.base import ContractError, RunContext, Task, TaskOutput
from ntkbench.tasks.forgetting import figures
from ntkbench.tasks.forgetting.budget import Budget as ForgettingBudget
from ntkbench.tasks.forgetting.claims import CLAIMS
from ntkbench.tasks.forgetting.contract import Learner, StreamInfo, TaskData
from ntkbench.tasks.forgetting.metrics import METRIC_SPECS, METRICS, forgetting_metrics
from ntkbench.tasks.forgetting.ntk import NTKView
from ntkbench.tasks.forgetting.published import PUBLISHED

SUBSET_TAG, METHOD_TAG = 0, 1
GUARD_WHY = "a forgetting learner sees only the current task's training data (no future task, no test split)"


class Forgetting(Task):
    name = "forgetting"
    version = 1
    Budget = ForgettingBudget
    metrics = METRIC_SPECS
    published = PUBLISHED
    claims = CLAIMS
    datasets = ("mnist1d", "fashion_mnist", "mnist", "cifar100")
    grid_fields = frozenset({"stream", "setting", "theta"})  # which stream: each is the protocol

    def effective_budget(self, dataset: str, budget: ForgettingBudget) -> ForgettingBudget:
        """`num_tasks` None is the stream's protocol count (10, or 5 for split); `setting` None of
        a split stream is task-il."""
        split = budget.stream == "split"
        return dataclasses.replace(
            budget,
            num_tasks=budget.num_tasks or (5 if split else 10),
            setting=budget.setting or ("task-il" if split else None),
        )

    def build_stream(self, ds: Dataset, budget: ForgettingBudget, root_seed: int) -> Stream:
        """The stream of an effective budget (`effective_budget` has set num_tasks and setting)."""
        kind, setting, num_tasks = budget.stream, budget.setting, budget.num_tasks
        if kind != "split" and setting not in (None, "domain-il"):
            raise ValueError(
                f"budget field 'setting': stream {kind!r} is domain-incremental; "
                "'setting' applies to split streams only"
            )
        if num_tasks is None:
            raise ValueError("build_stream needs the effective budget (Task.typed_budget): num_tasks is None")
        if budget.train_examples is not None:
            idx = np.asarray(
                class_balanced_indices(
                    jax.random.fold_in(jax.random.key(root_seed), SUBSET_TAG),
                    ds.y_train,
                    budget.train_examples,
                    ds.num_classes,
                )
            )
            ds = ds.replace(x_train=np.asarray(ds.x_train)[np.sort(idx)], y_train=np.asarray(ds.y_train)[np.sort(idx)])
        if budget.test_examples is not None:
            n = budget.test_examples
            ds = ds.replace(x_test=np.asarray(ds.x_test[:n]), y_test=np.asarray(ds.y_test[:n]))
        kw: dict[str, Any] = {"num_tasks": num_tasks, "seed": root_seed}
        if kind == "rotated":
            kw["theta_deg"] = budget.theta
        if kind == "split":
            kw["setting"] = setting
        return make_stream(kind, ds, **kw)

    def run(self, ctx: RunContext[ForgettingBudget]) -> TaskOutput:
        spec, budget = ctx.method, ctx.budget
        stream = self.build_stream(ctx.dataset, budget, ctx.root_seed)
        T, C = stream.num_tasks, stream.num_classes
        task_il = stream.setting == "task-il"
        info = StreamInfo(
            input_shape=tuple(stream.tasks[0].input_shape),
            num_classes=C,
            num_tasks=T,
            setting=stream.setting,
            epochs=budget.epochs,
            batch_size=budget.batch_size,
            max_train_per_task=max(len(t.y_train) for t in stream),
            task_id_at_test=task_il,
        )
        who = f"method {spec.name!r} from {spec.origin}"
        guard = lambda: forbid_data_access(who, GUARD_WHY)
        with guard():
            learner = spec.fn(info, **ctx.params)
        if not isinstance(learner, Learner) and not all(
            callable(getattr(learner, a, None)) for a in ("init", "learn", "predict")
        ):
            raise ContractError(
                f"{who} must return an ntkbench Learner (init, learn, predict), got {type(learner).__name__}"
            )

        masks = stream.logit_masks()
        train = [
            TaskData(
                x=jnp.asarray(t.x_train),
                y=jnp.asarray(t.y_train, jnp.int32),
                task_id=jnp.int32(i),
                classes=jnp.asarray(t.class_mask),
                logit_mask=jnp.asarray(masks[i]),
            )
            for i, t in enumerate(stream)
        ]
        tests = tuple((jnp.asarray(t.x_test), jnp.asarray(t.y_test, jnp.int32)) for t in stream)
        eval_ids = [i if task_il else -1 for i in range(T)]

        def evaluate(state: Any, tests: tuple[tuple[jax.Array, jax.Array], ...]) -> tuple[jax.Array, jax.Array]:
            accs, finite = [], []
            for j, (x, y) in enumerate(tests):
                logits = predict_in_chunks(lambda xb: learner.predict(state, xb, jnp.int32(eval_ids[j])), x)
                if tuple(logits.shape) != (x.shape[0], C):
                    raise ContractError(
                        f"{who}: predict returned logits of shape {tuple(logits.shape)}, expected {(x.shape[0], C)}"
                    )
                finite.append(jnp.all(jnp.isfinite(logits)))
                pred = jnp.where(jnp.asarray(masks[j]), logits, -jnp.inf).argmax(-1)
                accs.append((pred == y).mean() * 100.0)
            return jnp.stack(accs), jnp.all(jnp.stack(finite))

        programs = SeedPrograms(ctx.vmap_seeds, ctx.timing)
        S = ctx.seeds
        ntk = self._ntk_view(stream, budget, learner, ctx.root_seed, task_il)

        def checked_eval(state: Any, after: str) -> np.ndarray:
            accs, finite = programs("evaluate", evaluate, (state,), (tests,))
            bad = [s for s, f in enumerate(np.asarray(finite)) if not f]
            if bad:
                raise ContractError(f"{who} returned non-finite logits (NaN/inf) {after} for seeds {bad}")
            return np.asarray(accs, np.float64)

        with guard():
            state = programs("init", lambda k: learner.init(k), (seed_keys(ctx.root_seed, S, METHOD_TAG, 0),))
            b = checked_eval(state, "at initialisation")
            R = np.full((S, T, T), np.nan)
            for t in range(T):
                if ntk is not None and t > 0:
                    ntk.before(learner.network(jax.tree.map(lambda a: a[0], state)), t)
                keys = seed_keys(ctx.root_seed, S, METHOD_TAG, t + 1)
                t0 = time.perf_counter()
                state = programs("learn", lambda s, k, d: learner.learn(s, k, d), (state, keys), (train[t],))
                R[:, t] = checked_eval(state, f"after task {t + 1}")
                if ntk is not None and t > 0:
                    ntk.after(learner.network(jax.tree.map(lambda a: a[0], state)), R[0], t)
                ctx.log(
                    f"task {t + 1}/{T}: acc on tasks 1..{t + 1} = "
                    f"{', '.join(f'{v:.1f}' for v in R[:, t, : t + 1].mean(0))}  ({time.perf_counter() - t0:.1f}s)"
                )

        per_seed = [forgetting_metrics(R[s], b[s]) for s in range(S)]
        metrics = {m: metric([p[m] for p in per_seed]) for m in METRICS}
        # element-wise; std as in `metric`: the sample std (ddof=1), None with one seed
        metrics["acc_matrix"] = {"per_seed": R.tolist(), "mean": R.mean(0).tolist(), "std": _sample_std(R)}
        metrics["acc_init"] = {"per_seed": b.tolist(), "mean": b.mean(0).tolist(), "std": _sample_std(b)}
        view: dict[str, Any] = {
            "available": False,
            "reason": "the method exposes no network (Learner.network)"
            if learner.network is None
            else "budget ntk_view = false",
        }
        if ntk is not None:
            view = {
                "available": True,
                "seeds": "first seed only (seed 0)",
                "kernel": "empirical NTK, trace over logits / C",
                "ridge": budget.ntk_ridge,
                "probe_per_task": budget.ntk_probe,
                "train_points": budget.ntk_train_points,
                **ntk.summary(),
            }
        meta = {k: v for k, v in stream.meta.items() if k != "permutations"}
        extra = {
            "stream": {
                "kind": stream.name,
                "setting": stream.setting,
                "num_tasks": T,
                "fingerprint": stream.fingerprint(),
                "train_per_task": [len(t.y_train) for t in stream],
                "test_per_task": [len(t.y_test) for t in stream],
                "classes": [list(t.classes) for t in stream],
                "meta": meta,
            }
        }
        return TaskOutput(metrics=metrics, ntk=view, extra=extra)

    def _ntk_view(
        self, stream: Stream, budget: ForgettingBudget, learner: Learner, root_seed: int, task_il: bool
    ) -> NTKView | None:
        if not budget.ntk_view or learner.network is None or stream.num_tasks < 2:
            return None
        rng = np.random.default_rng([root_seed, 7])
        probes, points = [], []
        masks = stream.logit_masks()
        for i, t in enumerate(stream):
            n = min(budget.ntk_probe, len(t.y_test))
            probes.append((np.asarray(t.x_test[:n]), np.asarray(t.y_test[:n]), masks[i]))
            idx = np.sort(rng.permutation(len(t.y_train))[: budget.ntk_train_points])
            points.append((np.asarray(t.x_train[idx]), np.asarray(t.y_train[idx]), masks[i]))
        return NTKView(probes, points, stream.num_classes, budget.ntk_ridge)

    def figures(self, records: list[dict]) -> list[Any]:
        return figures.figures(records)


TASK = Forgetting()


def _sample_std(a: np.ndarray) -> list | None:
    """Element-wise sample std over seeds (axis 0), ddof=1 as `metric` has it; None with one seed."""
    return a.std(0, ddof=1).tolist() if a.shape[0] > 1 else None
