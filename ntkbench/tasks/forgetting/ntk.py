"""The NTK view of the `forgetting` task: predicted vs measured forgetting per task pair.

At the start of task k (k ≥ 2), with the current network f (first seed only: the empirical NTK is
the expensive part of the view), a fixed probe P_j of old-task test points (the first
`ntk_probe` test points of every task j < k) and a fixed subsample X_k of task k's training points
(`ntk_train_points`), the linearised-network prediction of the change of the old outputs after
fitting task k (Doan et al. 2021) is

    Δf(P) = Θ(P, X_k) (Θ(X_k, X_k) + λ I)⁻¹ r_k,       λ = ntk_ridge · mean diag Θ(X_k, X_k),

Θ the empirical NTK of the current network (scalar kernel = trace over logits / C, applied to each
logit: Θ ⊗ I_C), r_k the residual on X_k. Two residuals are reported:
  - "logits" (the protocol's, squared-loss view): r_k = onehot(y) − f(X_k);
  - "softmax" (the cross-entropy view, its negative gradient in the logits): onehot(y) − softmax f(X_k).
Under task-il r_k is zero outside task k's classes and argmaxes are over the task's classes.
Per pair (k, j): ‖Δf‖ = RMS over P_j of the Euclidean norm of Δf(x) (logit residual), the
predicted drop = acc(f on P_j) − acc(f + Δf on P_j), and the measured drop = acc(f on P_j) −
acc(f after training task k on P_j), plus the measured drop on task j's whole test split
(R[k−1, j] − R[k, j], same seed). Spearman rank correlations over all pairs of the run relate
predicted to measured drops.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from ntkbench.kernels import empirical_ntk, krr_solve
from ntkbench.tasks.forgetting.metrics import spearman

NEG = -1e9
Probe = tuple[np.ndarray, np.ndarray, np.ndarray]  # (x, y, logit mask) of one task


def _acc(logits: ArrayLike, y: ArrayLike, mask: ArrayLike) -> float:
    return float(np.mean(np.argmax(np.where(mask, logits, NEG), -1) == y) * 100.0)


def _softmax(logits: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.asarray(jax.nn.softmax(jnp.where(mask, logits, NEG), -1))


class NTKView:
    """Collects the per-pair rows; `before` at the start of task k, `after` when it is learned."""

    def __init__(
        self,
        probes: list[Probe],
        train_points: list[Probe],
        num_classes: int,
        ridge: float,
        batch_size: int = 128,
    ):
        self.probes = probes  # list over tasks of (x, y, mask) with mask the eval logit mask
        self.train_points = train_points  # list over tasks of (x, y, mask) with mask the train mask
        self.C, self.ridge, self.batch_size = num_classes, ridge, batch_size
        self.rows: list[dict[str, Any]] = []
        self.pending: list[dict[str, Any]] = []
        self.seconds = 0.0

    def before(self, model: Callable[[jax.Array], jax.Array], k: int) -> None:
        """model: the network at the start of task k (0-based); predicts the change on tasks j < k."""
        t0 = time.perf_counter()
        xk, yk, mk = self.train_points[k]
        old = list(range(k))
        p_x = np.concatenate([self.probes[j][0] for j in old])
        sizes = [len(self.probes[j][1]) for j in old]
        both = empirical_ntk(model, np.concatenate([p_x, xk]), xk, batch_size=self.batch_size)  # one compile
        k_pk, k_kk = both[: len(p_x)], both[len(p_x) :]
        k_kk = 0.5 * (k_kk + k_kk.T)
        lam = self.ridge * float(np.mean(np.diagonal(k_kk)))  # relative ridge, as an absolute λ
        fk = np.asarray(model(jnp.asarray(xk)))
        onehot = np.eye(self.C)[yk]
        f_p = np.asarray(model(jnp.asarray(p_x)))
        deltas = {}
        for kind, resid in (("logits", onehot - fk), ("softmax", onehot - _softmax(fk, mk))):
            resid = np.where(mk, resid, 0.0)
            with jax.enable_x64(True):  # float64, as the numpy arrays
                alpha = np.asarray(
                    krr_solve(
                        np.asarray(k_kk, np.float64), np.asarray(resid, np.float64), ridge=lam, diag_reg="absolute"
                    )
                )
            deltas[kind] = k_pk @ alpha
        offsets = np.cumsum([0] + sizes)
        self.pending = []
        for i, j in enumerate(old):
            sl = slice(offsets[i], offsets[i + 1])
            _, y, m = self.probes[j]
            before = _acc(f_p[sl], y, m)
            row = {
                "k": k + 1,
                "j": j + 1,
                "probe_points": sizes[i],
                "acc_before_probe": before,
                "delta_f_norm": float(np.sqrt(np.mean(np.sum(deltas["logits"][sl] ** 2, -1)))),
            }
            for kind, d in deltas.items():
                row[f"predicted_drop@{kind}"] = before - _acc(f_p[sl] + d[sl], y, m)
            self.pending.append(row)
        self.seconds += time.perf_counter() - t0

    def after(self, model: Callable[[jax.Array], jax.Array], R_seed0: np.ndarray, k: int) -> None:
        """model: the network after task k; R_seed0 the accuracy matrix (first seed) so far."""
        for row in self.pending:
            j = row["j"] - 1
            x, y, m = self.probes[j]
            row["acc_after_probe"] = _acc(np.asarray(model(jnp.asarray(x))), y, m)
            row["measured_drop_probe"] = row["acc_before_probe"] - row["acc_after_probe"]
            row["measured_drop_test"] = float(R_seed0[k - 1, j] - R_seed0[k, j])
            self.rows.append(row)
        self.pending = []

    def summary(self) -> dict:
        col = lambda name: [r[name] for r in self.rows]
        corr = {}
        for pred in ("predicted_drop@logits", "predicted_drop@softmax", "delta_f_norm"):
            for meas in ("measured_drop_probe", "measured_drop_test"):
                corr[f"spearman({pred},{meas})"] = spearman(col(pred), col(meas)) if self.rows else None
        return {"pairs": self.rows, "rank_correlation": corr, "seconds": self.seconds}
