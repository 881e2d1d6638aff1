"""The `training_dynamics` task: the protocol (see the package docstring) as a `Task`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ntkbench.data.base import Dataset
from ntkbench.data.subsets import class_balanced_indices
from ntkbench.data.synthetic import fourier_angle, target_components
from ntkbench.engine.kernel_predictor import arch_of, centred_one_hot
from ntkbench.engine.seeds import SeedPrograms, Timing, run_seeds, seed_keys
from ntkbench.models import Arch
from ntkbench.results import metric
from ntkbench.tasks.base import ContractError, RunContext, Task, TaskOutput
from ntkbench.tasks.training_dynamics import figures, spectral
from ntkbench.tasks.training_dynamics.bands import (
    EMPIRICAL_NAMES,
    INFINITE_WIDTH_NAMES,
    band_metrics,
    band_summary,
    mean_band_residual,
)
from ntkbench.tasks.training_dynamics.budget import Budget as DynamicsBudget
from ntkbench.tasks.training_dynamics.claims import CLAIMS
from ntkbench.tasks.training_dynamics.contract import DynamicsData
from ntkbench.tasks.training_dynamics.entk import empirical_grams
from ntkbench.tasks.training_dynamics.metrics import METRICS, target_label
from ntkbench.tasks.training_dynamics.ntk import (
    flops_per_step,
    grams,
    learning_rate,
    linearisation_gap,
    predicted_test_outputs,
    predicted_train_residuals,
    widened,
)
from ntkbench.tasks.training_dynamics.published import PUBLISHED

SUBSET_TAG, METHOD_TAG, GAP_TAG = 0, 1, 2
Context = RunContext[DynamicsBudget]
PREDICTION_POINTS = 400  # integer steps the NTK curves are evaluated at (log-spaced)
CURVE_POINTS = 60  # points of a predicted curve kept in the result file


def is_regression(ds: Dataset) -> bool:
    """A dataset with a known real target made of modes: Fourier modes (`fourier1d`: meta `modes`,
    `phases`, `amplitude`) or spherical harmonics (`sphere3`: `degrees`, `directions`, `amplitude`)."""
    return all(k in ds.meta for k in ("modes", "phases", "amplitude")) or all(
        k in ds.meta for k in ("degrees", "directions", "amplitude")
    )


def mode_residuals(ds: Dataset, x: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """values (..., n) on the training inputs x -> (..., modes): the amplitude of each mode of the
    known target in them, relative to its amplitude in the target (1 at f = 0, where the residual is
    −target). Fourier modes: a quadrature over the training angles (the DFT coefficient on a regular
    grid). Spherical harmonics: least-squares coefficients on the target's zonal components sampled
    at x (degrees are orthogonal on the sphere, nearly so on n random points)."""
    if "degrees" in ds.meta:
        columns = target_components(x, ds.meta)
        return lambda values: spectral.component_coefficients(columns, values)
    theta, modes, scale = fourier_angle(x), ds.meta["modes"], float(ds.meta["amplitude"])
    return lambda values: spectral.mode_amplitudes(theta, values, modes) / scale


class TrainingDynamics(Task):
    name = "training_dynamics"
    version = 2
    Budget = DynamicsBudget
    metrics = METRICS
    published = PUBLISHED
    claims = CLAIMS
    datasets = ("fourier1d", "sphere3", "mnist1d", "mnist1d-shuffled", "lza-<d>", "fashion_mnist")
    train_count_fields = frozenset({"n"})

    def run(self, ctx: RunContext[DynamicsBudget]) -> TaskOutput:
        ds, spec, budget = ctx.dataset, ctx.method, ctx.budget
        n, steps = budget.n, budget.steps
        check_budget(budget, len(ds.y_train), len(ds.y_test))
        regression = is_regression(ds)

        if regression:  # the first n: spread evenly (fourier1d: a regular grid for n = 2^k; sphere3: uniform)
            idx = np.arange(n)
        else:
            subset_key = jax.random.fold_in(jax.random.key(ctx.root_seed), SUBSET_TAG)
            idx = np.asarray(class_balanced_indices(subset_key, ds.y_train, n, ds.num_classes))
        x, labels = np.asarray(ds.x_train[idx]), np.asarray(ds.y_train[idx])
        x_test, y_test = np.asarray(ds.x_test[: budget.test_points]), np.asarray(ds.y_test[: budget.test_points])
        if regression:
            y = target_components(x, ds.meta).sum(1, keepdims=True).astype(np.float32)
        else:
            y = centred_one_hot(labels, ds.num_classes)
        num_outputs = y.shape[1]
        probe = np.concatenate([x, x_test])
        checkpoints = spectral.log_checkpoints(steps, budget.checkpoints)

        arch = arch_of(spec, ctx.params, num_outputs)
        k_tt = k_st = lam = v = None
        if arch is not None:
            k_tt, k_st = grams(arch, x, x_test)
            lam, v = spectral.eig_desc(k_tt)
        lr = learning_rate(budget, None if lam is None else float(lam[0]), n)
        ctx.log(
            f"n={n}, {steps} full-batch GD steps at η={lr:.4g}" + (f" (λ_max={lam[0]:.4g})" if lam is not None else "")
        )

        data = DynamicsData(jnp.asarray(x), jnp.asarray(y), jnp.asarray(probe), checkpoints, lr)
        outputs = self._run_method(ctx, data)
        bad = [s for s in range(ctx.seeds) if not np.all(np.isfinite(outputs[s]))]
        if bad:
            raise ContractError(f"method {spec.name!r} returned non-finite outputs (NaN/inf) for seeds {bad}")

        metrics: dict[str, Any] = {}
        ntk: dict[str, Any] = {"lr": lr, "checkpoints": list(checkpoints)}
        extra: dict[str, Any] = {"checkpoints": list(checkpoints), "lr": lr, "curves": {}}
        residuals = outputs[:, :, :n, :] - y[None, None]  # (S, K, n, C)
        if arch is not None and lam is not None and v is not None:
            ntk.update(kernel="ntk", arch=arch.__dict__ | {"widths": list(arch.widths), "dense": list(arch.dense)})
            metrics.update(self._spectral(ctx, checkpoints, residuals, lam, v, lr, ntk, extra))
            if budget.empirical_ntk:
                metrics.update(self._empirical_spectral(ctx, arch, x, checkpoints, residuals, lr, ntk, extra))
        else:
            ntk["note"] = f"method {spec.name!r} declares no architecture (arch= hook): no kernel, no predictions"
        if regression:
            metrics.update(self._modes(ctx, checkpoints, residuals, x, k_tt, y, lr))
        else:
            metrics.update(self._accuracy(ctx, checkpoints, outputs, y, y_test, k_tt, k_st, lr, n, extra))
        if arch is not None:
            metrics.update(self._gap_and_flops(ctx, arch, x, y, probe, lr, metrics))
        return TaskOutput(metrics=metrics, ntk=ntk, extra=extra)

    def _run_method(self, ctx: Context, data: DynamicsData) -> np.ndarray:
        spec = ctx.method
        want = (len(data.checkpoints), int(data.probe.shape[0]), data.num_outputs)

        def one_seed(key: jax.Array) -> jax.Array:
            out = spec.fn(jax.random.fold_in(key, METHOD_TAG), data, **ctx.params)
            if tuple(np.shape(out)) != want:
                raise ContractError(
                    f"method {spec.name!r} returned outputs of shape {tuple(np.shape(out))}, expected {want}"
                    " (checkpoints, probe points, outputs)"
                )
            return jnp.asarray(out, jnp.float32)

        keys = seed_keys(ctx.root_seed, ctx.seeds)
        timing = Timing()
        if spec.jittable:
            out = SeedPrograms(ctx.vmap_seeds, timing)("run", one_seed, (keys,))
        else:
            out, timing = run_seeds(one_seed, keys, vmap=False, jit=False)
        ctx.timing.add(timing)
        ctx.log(f"trained {ctx.seeds} seed(s) (compile {timing.compile_seconds:.1f}s, run {timing.run_seconds:.1f}s)")
        return np.asarray(out, np.float64)

    def _spectral(
        self,
        ctx: Context,
        checkpoints: tuple[int, ...],
        residuals: np.ndarray,
        lam: np.ndarray,
        v: np.ndarray,
        lr: float,
        ntk: dict[str, Any],
        extra: dict[str, Any],
    ) -> dict:
        """Spectral bias against the infinite-width NTK (one kernel for every seed)."""
        bands = spectral.log_bands(len(lam), ctx.budget.bands)
        scores = [spectral.band_decay(checkpoints, r, lam, v, lr, bands) for r in residuals]
        out = band_metrics(scores, INFINITE_WIDTH_NAMES)
        ntk["bands"] = band_summary(bands, [lam], lr)
        ntk["top_eigenvalues"] = [float(t) for t in lam[: min(len(lam), 16)]]
        extra["curves"]["band_residual"] = mean_band_residual(scores)
        ctx.log(
            f"spectral bias (NTK): Spearman(λ, 1/τ) {_fmt(out['spearman_speed'])}, measured/predicted τ median"
            f" {_fmt(out['tau_ratio_median'])}"
        )
        return out

    def _empirical_spectral(
        self,
        ctx: Context,
        arch: Arch,
        x: np.ndarray,
        checkpoints: tuple[int, ...],
        residuals: np.ndarray,
        lr: float,
        ntk: dict[str, Any],
        extra: dict[str, Any],
    ) -> dict:
        """Spectral bias against each seed's empirical NTK at initialisation (`entk.py`): the same
        scoring, each seed its own kernel and eigenbasis; η stays the infinite-width one."""
        timing = Timing()
        method_keys = seed_keys(ctx.root_seed, ctx.seeds, METHOD_TAG)  # the keys `_run_method` hands the method
        grams = empirical_grams(arch, x, method_keys, ctx.vmap_seeds, timing)
        ctx.timing.add(timing)
        eigs = [spectral.eig_desc(g) for g in grams]
        bands = spectral.log_bands(len(x), ctx.budget.bands)
        scores = [spectral.band_decay(checkpoints, r, lam, v, lr, bands) for r, (lam, v) in zip(residuals, eigs)]
        out = band_metrics(scores, EMPIRICAL_NAMES)
        ntk["empirical"] = {
            "kernel": "empirical NTK at initialisation (trace over outputs / C), per seed",
            "bands": band_summary(bands, [lam for lam, _ in eigs], lr),
            "top_eigenvalues": [[float(t) for t in lam[: min(len(lam), 16)]] for lam, _ in eigs],
        }
        extra["curves"]["entk_band_residual"] = mean_band_residual(scores)
        ctx.log(
            f"spectral bias (empirical NTK, compile {timing.compile_seconds:.1f}s, run {timing.run_seconds:.1f}s):"
            f" Spearman(λ, 1/τ) {_fmt(out['entk_spearman_speed'])}, measured/predicted τ median"
            f" {_fmt(out['entk_tau_ratio_median'])}"
        )
        return out

    def _accuracy(
        self,
        ctx: Context,
        checkpoints: tuple[int, ...],
        outputs: np.ndarray,
        y: np.ndarray,
        y_test: np.ndarray,
        k_tt: np.ndarray | None,
        k_st: np.ndarray | None,
        lr: float,
        n: int,
        extra: dict[str, Any],
    ) -> dict:
        acc = (outputs[:, :, n:, :].argmax(-1) == y_test[None, None]).mean(-1) * 100.0  # (S, K)
        out: dict[str, Any] = {"test_acc@final": metric(acc[:, -1])}
        extra["curves"]["test_acc"] = acc.mean(0).tolist()
        pred_acc = from_init = None
        if k_tt is not None and k_st is not None:
            ts = prediction_steps(ctx.budget.steps)

            def accuracy(f_t: np.ndarray) -> np.ndarray:
                return (f_t.argmax(-1) == y_test[None]).mean(-1) * 100.0

            pred_acc = accuracy(predicted_test_outputs(k_tt, k_st, y, lr, ts))
            from_init = [
                accuracy(predicted_test_outputs(k_tt, k_st, y, lr, ts, f0[:n], f0[n:])) for f0 in outputs[:, 0]
            ]
            keep = np.unique(np.linspace(0, len(ts) - 1, CURVE_POINTS).astype(int))
            extra["curves"]["ntk_test_acc"] = {"steps": ts[keep].tolist(), "acc": pred_acc[keep].tolist()}
            extra["curves"]["ntk_from_init_test_acc"] = {
                "steps": ts[keep].tolist(),
                "acc": np.mean(from_init, axis=0)[keep].tolist(),
            }
        for target in ctx.budget.targets:
            label = target_label(target)
            # a target not reached within the run (the last checkpoint, or the last predicted step) is
            # censored there: "> steps (k of n seeds)", never averaged (`metric`)
            out[f"steps_to@{label}"] = metric(
                [spectral.steps_to(checkpoints, a, target) for a in acc], bound=checkpoints[-1]
            )
            if pred_acc is not None and from_init is not None:
                horizon = float(ts[-1])
                out[f"ntk_steps_to@{label}"] = metric([spectral.steps_to(ts, pred_acc, target)], bound=horizon)
                out[f"ntk_from_init_steps_to@{label}"] = metric(
                    [spectral.steps_to(ts, a, target) for a in from_init], bound=horizon
                )
        ctx.log(
            f"test accuracy {out['test_acc@final']['mean']:.1f} after {ctx.budget.steps} steps; "
            + ", ".join(
                f"steps to {target_label(t)}%: {_fmt(out[f'steps_to@{target_label(t)}'])}"
                + (
                    f" (NTK {_fmt(out[f'ntk_steps_to@{target_label(t)}'])},"
                    f" from the network's f_0 {_fmt(out[f'ntk_from_init_steps_to@{target_label(t)}'])})"
                    if pred_acc is not None
                    else ""
                )
                for t in ctx.budget.targets
            )
        )
        return out

    def _modes(
        self,
        ctx: Context,
        checkpoints: tuple[int, ...],
        residuals: np.ndarray,
        x: np.ndarray,
        k_tt: np.ndarray | None,
        y: np.ndarray,
        lr: float,
    ) -> dict:
        """Per mode of the known target (a Fourier frequency, or a spherical-harmonic degree): the
        training residual's amplitude in it relative to the target's (`mode_residuals`), and the
        first step at which that falls below `fit_threshold`."""
        ds, thr = ctx.dataset, ctx.budget.fit_threshold
        modes = [int(m) for m in ds.meta["degrees" if "degrees" in ds.meta else "modes"]]
        relative = mode_residuals(ds, x)
        fits = []
        for r in residuals:
            rel = relative(r[..., 0])  # (K, modes)
            fits.append([spectral.crossing(checkpoints, rel[:, k], thr) for k in range(len(modes))])
        out: dict[str, Any] = {}
        for k, m in enumerate(modes):
            out[f"steps_to_fit@k={m}"] = metric([row[k] for row in fits], bound=checkpoints[-1])
        if k_tt is not None:
            ts = prediction_steps(ctx.budget.steps)
            rel = relative(predicted_train_residuals(k_tt, y, lr, ts)[..., 0])
            for k, m in enumerate(modes):
                out[f"ntk_steps_to_fit@k={m}"] = metric([spectral.crossing(ts, rel[:, k], thr)], bound=float(ts[-1]))
        out["low_before_high"] = metric([spectral.low_before_high(row) for row in fits])
        out["frequency_exponent"] = metric([spectral.fit_exponent(modes, row) for row in fits])
        ctx.log(
            "steps to fit mode k: "
            + ", ".join(f"k={m}: {_fmt(out[f'steps_to_fit@k={m}'])}" for m in modes)
            + f"; exponent {_fmt(out['frequency_exponent'])}, low before high {_fmt(out['low_before_high'])}"
        )
        return out

    def _gap_and_flops(
        self, ctx: Context, arch: Arch, x: np.ndarray, y: np.ndarray, probe: np.ndarray, lr: float, metrics: dict
    ) -> dict:
        budget, n = ctx.budget, len(x)
        out: dict[str, Any] = {}
        if budget.flops:
            flops = flops_per_step(arch, x, y, lr)
            out["flops_per_step"] = metric([flops])
            for target in budget.targets:
                steps_to = metrics.get(f"steps_to@{target_label(target)}")
                if steps_to is not None and flops is not None:
                    out[f"flops_to@{target_label(target)}"] = metric(
                        [None if s is None else s * flops for s in steps_to["per_seed"]], bound=budget.steps * flops
                    )
        seeds = min(budget.gap_seeds, ctx.seeds)
        keys = seed_keys(ctx.root_seed, ctx.seeds, GAP_TAG)[:seeds]
        for width in budget.gap_widths:
            arch_w = widened(arch, width)
            lam_w = None
            if budget.lr is None:
                lam_w = float(np.linalg.eigvalsh(grams(arch_w, x, x[:1])[0])[-1])
            lr_w = learning_rate(budget, lam_w, n)
            timing = Timing()
            gap_steps = budget.gap_steps or budget.steps
            gaps = linearisation_gap(arch_w, x, y, probe, lr_w, gap_steps, keys, ctx.vmap_seeds, timing)
            ctx.timing.add(timing)
            out[f"linearisation_gap@width={width}"] = metric(gaps)
            ctx.log(f"linearisation gap at width {width}: {np.mean(gaps):.4f} (η={lr_w:.4g})")
        return out

    def censoring(self, record: dict, metric: str) -> tuple[float | None, float | None]:
        """A target or a fit not reached within the run's `steps` (the last checkpoint and the last
        predicted step): censored there; in FLOPs, at steps × FLOPs per step."""
        checkpoints = record.get("checkpoints") or [record["budget"].get("steps") or self.budget_defaults["steps"]]
        steps = checkpoints[-1]  # the run's steps, as the run resolved them
        if metric.startswith(("steps_to", "ntk_steps_to", "ntk_from_init_steps_to")):
            return float(steps), None
        if metric.startswith("flops_to@"):
            flops = record["metrics"].get("flops_per_step", {}).get("mean")
            return (float(steps) * flops if isinstance(flops, int | float) else None), None
        return None, None

    def figures(self, records: list[dict]) -> list[Any]:
        return figures.figures(records)


def prediction_steps(steps: int) -> np.ndarray:
    """0 and PREDICTION_POINTS log-spaced integer steps up to `steps` (where predictions are evaluated)."""
    return np.concatenate([[0], np.unique(np.round(np.geomspace(1, steps, PREDICTION_POINTS)).astype(int))])


def _fmt(m: dict) -> str:
    v = m.get("mean")
    return "—" if v is None else f"{v:.3g}"


def check_budget(budget: DynamicsBudget, train_size: int, test_size: int) -> None:
    """Budget values that are valid numbers but impossible for this dataset: an error naming the field."""
    n = budget.n
    if n > train_size:
        raise ValueError(f"budget field 'n': {n} exceeds the {train_size} training examples of the dataset")
    if budget.test_points > test_size:
        raise ValueError(f"budget field 'test_points': {budget.test_points} exceeds the {test_size} test examples")
    if 2 ** (budget.bands - 1) - 1 >= n:
        raise ValueError(
            f"budget field 'bands': {budget.bands} log-spaced bands need more than {2 ** (budget.bands - 1) - 1}"
            f" eigenvalues, but n = {n}"
        )
    if budget.checkpoints > budget.steps + 1:
        raise ValueError(f"budget field 'checkpoints': {budget.checkpoints} exceeds steps + 1 = {budget.steps + 1}")


TASK = TrainingDynamics()
