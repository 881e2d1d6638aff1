"""The NTK view of the `adversarial` task.

1. NTK eigen-features (Tsilivis & Kempe 2022), a property of the dataset and the kernel (the same
   for every method), on a binary reduction: classes a, b = budget `ntk_classes` (default 0, 1),
   labels y = −1 for a and +1 for b. X: `ntk_train_points` training points (half per class, seeded
   by the root seed); Θ: the infinite-width NTK of a 2-hidden-layer ReLU MLP (NTK
   parameterisation, `ntkbench.kernels.kernel_fn`); Θ(X, X) = Σ_i λ_i v_i v_iᵀ with λ_1 ≥ λ_2 ≥ …
   For the top `ntk_features` eigenpairs,

       φ_i(x) = Θ(x, X) λ_i⁻¹ v_i v_iᵀ Y      (a scalar; Σ_i φ_i is the kernel regression predictor)

   usefulness_i = clean accuracy (percent) of sign φ_i(x) on the first `ntk_test_points` test
   points of classes a, b (50 = chance; below 50 means anti-correlated); robustness_i = accuracy of
   the same rule under PGD (`ntk_attack_steps` steps, step 2.5·eps/steps, random start) on the
   logits (−φ_i, φ_i), in the run's threat model. Also reported: the label energy (v_iᵀY)²/‖Y‖² of
   each direction, and clean/robust accuracy of the kernel ridge predictor Θ(x, X)(Θ + λI)⁻¹Y
   (λ = `ntk_ridge` · mean diag Θ).
2. Kernel distance (Fort et al. 2020) 1 − ⟨Θ_0, Θ_T⟩_F / (‖Θ_0‖ ‖Θ_T‖) between the empirical NTK
   (`ntkbench.kernels.empirical_ntk`, trace over logits / C) of the network at initialisation and
   after training, on a probe of the first `ntk_probe` test points, for every seed whose predictor
   is a `Classifier` holding NNX modules (`model`, `init`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from jax.tree_util import Partial

from ntkbench.attacks import ThreatModel, evaluate_attacks
from ntkbench.data.base import Dataset
from ntkbench.kernels import empirical_ntk, gram, kernel_distance, kernel_fn, krr_solve
from ntkbench.models import Arch, mlp
from ntkbench.tasks.adversarial.budget import Budget

FEATURE_TAG = 3
KERNEL = "infinite-width NTK of a ReLU MLP, 2 hidden layers, NTK parameterisation (w_std sqrt 2, b_std 0)"


@functools.lru_cache(maxsize=8)
def _feature_logits(arch: Arch, input_shape: tuple[int, ...]) -> Callable:
    """(X, w, x) -> logits (−φ, φ) with φ(x) = Θ(x, X) w; one function per kernel, so every
    feature reuses one compiled attack."""
    k = kernel_fn(arch, input_shape)

    def logits(X: jax.Array, w: jax.Array, x: jax.Array) -> jax.Array:
        phi = k(x, X) @ w
        return jnp.stack([-phi, phi], axis=-1)

    return logits


def _binary_subset(
    rng: np.random.Generator, x: np.ndarray, y: np.ndarray, classes: list[int], n: int, first: bool
) -> tuple[np.ndarray, np.ndarray]:
    a, b = classes
    if first:  # the first n points of the two classes, in order
        idx = np.flatnonzero((y == a) | (y == b))[:n]
    else:
        per = n // 2
        ia, ib = np.flatnonzero(y == a), np.flatnonzero(y == b)
        if len(ia) < per or len(ib) < n - per:
            raise ValueError(
                f"ntk view: classes {a}, {b} have {len(ia)}, {len(ib)} training points; "
                f"ntk_train_points = {n} needs {per}, {n - per}"
            )
        idx = np.sort(np.concatenate([rng.choice(ia, per, replace=False), rng.choice(ib, n - per, replace=False)]))
    return np.asarray(x[idx], np.float32), (np.asarray(y[idx]) == b).astype(np.int32)


def eigen_features(ds: Dataset, budget: Budget, threat: ThreatModel, root_seed: int) -> dict[str, Any]:
    classes = list(budget.ntk_classes)
    if classes[0] == classes[1] or not all(0 <= c < ds.num_classes for c in classes):
        raise ValueError(f"budget field 'ntk_classes': two distinct classes of 0..{ds.num_classes - 1}, got {classes}")
    rng = np.random.default_rng([root_seed, FEATURE_TAG])
    X, y01 = _binary_subset(rng, ds.x_train, ds.y_train, classes, budget.ntk_train_points, first=False)
    xt, yt01 = _binary_subset(rng, ds.x_test, ds.y_test, classes, budget.ntk_test_points, first=True)
    Y = 2.0 * y01 - 1.0
    arch = mlp(2, (512, 512), parameterization="ntk")
    shape = tuple(ds.x_train.shape[1:])
    K = np.asarray(gram(kernel_fn(arch, shape), X), np.float64)
    K = 0.5 * (K + K.T)
    lam, V = np.linalg.eigh(K)
    lam, V = lam[::-1], V[:, ::-1]
    top = min(budget.ntk_features, len(X))
    proj = V[:, :top].T @ Y  # v_iᵀ Y
    W = (V[:, :top] * (proj / lam[:top])).astype(np.float32)  # column i: λ_i⁻¹ v_i v_iᵀ Y
    ridge = budget.ntk_ridge * float(np.mean(np.diag(K)))
    with jax.enable_x64(True):  # float64, as K
        alpha = np.asarray(krr_solve(K, Y, ridge=ridge, diag_reg="absolute")).astype(np.float32)

    fn = _feature_logits(arch, shape)
    Xj = jnp.asarray(X)
    steps = budget.ntk_attack_steps
    key = jax.random.fold_in(jax.random.key(root_seed), FEATURE_TAG)

    def accs(w: np.ndarray) -> tuple[float, float]:
        rep = evaluate_attacks(
            Partial(fn, Xj, jnp.asarray(w)),
            xt,
            yt01,
            threat,
            key,
            attacks=("pgd",),
            attack_kwargs={"pgd": {"steps": steps}},
        )
        return rep.accs["clean"], rep.accs["pgd"]

    features = []
    for i in range(top):
        clean, robust = accs(W[:, i])
        features.append(
            {
                "index": i + 1,
                "eigenvalue": float(lam[i]),
                "label_energy": float(proj[i] ** 2 / np.sum(Y**2)),
                "usefulness": clean,
                "robustness": robust,
            }
        )
    krr_clean, krr_robust = accs(alpha)
    return {
        "kernel": KERNEL,
        "classes": classes,
        "labels": f"-1 for class {classes[0]}, +1 for class {classes[1]}",
        "train_points": len(X),
        "test_points": len(xt),
        "attack": f"pgd, {steps} steps, step 2.5*eps/steps, random start",
        "features": features,
        "eigenvalue_share_top": float(np.sum(lam[:top]) / np.sum(lam)),
        "krr": {"ridge": budget.ntk_ridge, "clean_acc": krr_clean, "robust_acc": krr_robust},
    }


def kernel_distances(predictors: list[Any], probe: jax.Array) -> dict[str, Any]:
    per_seed = []
    for p in predictors:
        model, init = getattr(p, "model", None), getattr(p, "init", None)
        if not isinstance(model, nnx.Module) or not isinstance(init, nnx.Module):
            return {
                "available": False,
                "reason": "the predictor is not a Classifier(model, init) of NNX modules "
                "(e.g. a kernel machine: its kernel does not move)",
            }
        k0 = empirical_ntk(init, probe)
        k1 = empirical_ntk(model, probe)
        per_seed.append(float(kernel_distance(jnp.asarray(k0), jnp.asarray(k1))))
    return {
        "available": True,
        "probe_points": int(probe.shape[0]),
        "kernel": "empirical NTK, trace over logits / C",
        "per_seed": per_seed,
        "mean": float(np.mean(per_seed)),
        "std": float(np.std(per_seed)),
    }


def ntk_view(
    ds: Dataset,
    budget: Budget,
    threat: ThreatModel,
    root_seed: int,
    predictors: list[Any],
    x_test: jax.Array,
    log: Callable[[str], None] = lambda m: None,
) -> dict[str, Any]:
    t0 = time.perf_counter()
    view: dict[str, Any] = {"available": True, "eigen_features": eigen_features(ds, budget, threat, root_seed)}
    t1 = time.perf_counter()
    view["kernel_distance"] = kernel_distances(predictors, x_test[: budget.ntk_probe])
    t2 = time.perf_counter()
    view["seconds"] = {"eigen_features": t1 - t0, "kernel_distance": t2 - t1}
    f = view["eigen_features"]["features"]
    kd = view["kernel_distance"]
    use = ", ".join(f"{r['usefulness']:.0f}" for r in f)
    rob = ", ".join(f"{r['robustness']:.0f}" for r in f)
    dist = f"{kd['mean']:.3f}" if kd["available"] else "n/a"
    log(
        f"NTK view: eigen-feature usefulness {use}; robustness {rob}; kernel distance init->trained {dist} "
        f"({t2 - t0:.1f}s)"
    )
    return view
