"""Evaluation of a synthetic set for the `distillation` task (the task's, never the method's).

    eval_archs(C, budget)                          -> {"convnet": Arch, "mlp": Arch}
    NetworkEval(arch, input_shape, n_syn, soft, budget, vmap_networks=True)
        .accuracies(key, x_syn, y_syn, x_test, y_test) -> (networks,) test accuracies in percent
    kernel_arch(C, input_shape, budget)            -> (Arch, description) of the KRR kernel
    krr_accuracy(k, x_syn, y_syn, x_test, y_test, ridge) -> percent

Finite networks follow the DC protocol: trained from scratch on the synthetic set with SGD
(lr `eval_lr`, momentum `eval_momentum`, weight decay `eval_weight_decay` added to the gradient as
PyTorch's SGD does), batches of `eval_batch_size` over `eval_epochs` epochs through the shared
trainer (`train_params(epochs=...)`: a fresh permutation per epoch, the last incomplete batch
dropped, so with more than one batch per epoch a few examples sit out each epoch), lr × 0.1 at
epoch `eval_epochs // 2`. Hard labels: cross-entropy; soft labels: `soft_label_loss` ("mse" to the
label vectors, the loss KIP's labels are learned for, or "cross_entropy" against them as
probabilities). The `eval_networks` networks of one seed are one vmapped program.

Augmentation (`augment`): "none" (the protocol's default) or "dsa" — every training minibatch of
the evaluation networks (ConvNet and MLP) goes through `augment.augment_batch` with that step's
key: DSA's 'color_crop_cutout_flip_scale_rotate' on images, the 1-D subset 'color_crop_cutout_scale'
on (L, C) signals, DSA's single-operation-per-minibatch mode (see `augment.py`).
`augmentation(input_shape, budget)` is what the result records.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from numpy.typing import ArrayLike

from ntkbench import models
from ntkbench.engine.seeds import PROGRAMS, predict_in_chunks
from ntkbench.engine.train import Split, build, cross_entropy, train_params
from ntkbench.kernels import gram, krr_fit_predict
from ntkbench.tasks.distillation.augment import augment_batch, default_strategy
from ntkbench.tasks.distillation.budget import Budget

EVAL_CHUNK_IMAGES = 1000  # test images in flight at once, over all vmapped networks
EVAL_FIELDS = (
    "eval_networks",
    "eval_epochs",
    "eval_batch_size",
    "eval_lr",
    "eval_momentum",
    "eval_weight_decay",
    "soft_label_loss",
    "augment",
)
DSA_MODE = "single"  # DSA's default aug_mode 'S': one operation of the strategy per minibatch


def eval_archs(num_classes: int, budget: Budget) -> dict[str, models.Arch]:
    """ConvNet-`eval_depth` (width `eval_width`, instance norm, ReLU, 2×2 avg pool; 1-D on 1-D
    data) and the DC MLP (two hidden layers of `eval_width`, ReLU)."""
    w, d = budget.eval_width, budget.eval_depth
    return {
        "convnet": models.convnet(num_classes, (w,) * d, kernel_size=3, padding="SAME", pool="avg", norm="instance"),
        "mlp": models.mlp(num_classes, (w, w)),
    }


def soft_loss(name: Literal["mse", "cross_entropy"]) -> Callable[[jax.Array, jax.Array], jax.Array]:
    if name == "mse":
        return lambda logits, y: 0.5 * jnp.sum((logits - y) ** 2, -1).mean()
    return lambda logits, y: optax.softmax_cross_entropy(logits, y).mean()


def augmentation(input_shape: Sequence[int], budget: Budget) -> dict[str, Any]:
    """What the evaluation networks' training minibatches go through (recorded in the result)."""
    if budget.augment == "none":
        return {"augment": "none"}
    return {
        "augment": "dsa",
        "strategy": default_strategy((None, *input_shape)),
        "mode": DSA_MODE,
        "applied_to": "every training minibatch of the evaluation networks (convnet, mlp), per-example parameters",
    }


class NetworkEval:
    """Train `eval_networks` networks of `arch` from scratch on a synthetic set; test accuracy."""

    def __init__(
        self,
        arch: models.Arch,
        input_shape: Sequence[int],
        n_syn: int,
        soft: bool,
        budget: Budget,
        *,
        vmap_networks: bool = True,
    ):
        self.arch, self.input_shape = arch, tuple(input_shape)
        self.networks = budget.eval_networks
        self.epochs = budget.eval_epochs
        self.batch = min(budget.eval_batch_size, n_syn)
        steps_per_epoch = n_syn // self.batch
        decay_at = (self.epochs // 2) * steps_per_epoch
        sched = optax.piecewise_constant_schedule(budget.eval_lr, {decay_at: 0.1} if decay_at > 0 else {})
        self.optimizer = optax.chain(
            optax.add_decayed_weights(budget.eval_weight_decay),
            optax.sgd(sched, momentum=budget.eval_momentum),
        )
        self.loss_of = soft_loss(budget.soft_label_loss) if soft else cross_entropy
        self.model_fn = lambda rngs: models.Network(arch, self.input_shape, rngs=rngs)
        self.graphdef = build(self.model_fn, jax.random.key(0))[0]
        self.num_classes = arch.num_classes
        self.vmap_networks = vmap_networks
        self.augmentation = augmentation(self.input_shape, budget)
        self.steps = self.epochs * steps_per_epoch
        self._config = (
            arch,
            self.input_shape,
            n_syn,
            soft,
            vmap_networks,
            tuple(getattr(budget, f) for f in EVAL_FIELDS),
        )
        self.compile_seconds = 0.0

    def _one(
        self, key: jax.Array, x_syn: jax.Array, y_syn: jax.Array, x_test: jax.Array, y_test: jax.Array, chunk: int
    ) -> tuple[jax.Array, jax.Array]:
        k_init, k_train = jax.random.split(key)
        params = build(self.model_fn, k_init)[1]
        graphdef = self.graphdef

        aug = self.augmentation

        def loss(p: Any, x: jax.Array, y: jax.Array, k: jax.Array) -> jax.Array:
            if aug["augment"] == "dsa":
                x = augment_batch(k, x, aug["strategy"], aug["mode"])
            return self.loss_of(nnx.merge(graphdef, p)(x), y)

        params, losses = train_params(
            k_train,
            loss,
            params,
            Split(x_syn, y_syn, self.num_classes),
            optimizer=self.optimizer,
            epochs=self.epochs,
            batch_size=self.batch,
        )
        logits = predict_in_chunks(lambda xb: nnx.merge(graphdef, params)(xb), x_test, chunk)
        return (logits.argmax(-1) == y_test).mean() * 100.0, losses[-1]

    def program(self, *args: jax.Array) -> Any:
        """The AOT-compiled program for these argument shapes (compiled once, reused per seed)."""
        sig = (self._config, tuple((a.shape, str(a.dtype)) for a in jax.tree.leaves(args)))

        def build() -> Any:  # compiled evaluation programs are shared by equal configurations (method and `random`)
            if self.vmap_networks:
                chunk = max(1, EVAL_CHUNK_IMAGES // self.networks)
                fn = jax.vmap(functools.partial(self._one, chunk=chunk), in_axes=(0, None, None, None, None))
            else:
                fn = functools.partial(self._one, chunk=EVAL_CHUNK_IMAGES)
            t0 = time.perf_counter()
            compiled = jax.jit(fn).lower(*args).compile()
            self.compile_seconds += time.perf_counter() - t0
            return compiled

        return PROGRAMS.get_or_build(("distillation.evaluation.NetworkEval", sig), build)

    def accuracies(
        self, key: jax.Array, x_syn: jax.Array, y_syn: jax.Array, x_test: jax.Array, y_test: jax.Array
    ) -> tuple[np.ndarray, np.ndarray]:
        """(networks,) test accuracies and final training losses; network i uses fold_in(key, i)."""
        keys = jnp.stack([jax.random.fold_in(key, i) for i in range(self.networks)])
        if self.vmap_networks:
            acc, loss = self.program(keys, x_syn, y_syn, x_test, y_test)(keys, x_syn, y_syn, x_test, y_test)
        else:
            outs = [self.program(k, x_syn, y_syn, x_test, y_test)(k, x_syn, y_syn, x_test, y_test) for k in keys]
            acc, loss = jnp.stack([o[0] for o in outs]), jnp.stack([o[1] for o in outs])
        return np.asarray(acc, np.float64), np.asarray(loss, np.float64)


def kernel_arch(num_classes: int, input_shape: Sequence[int], budget: Budget) -> tuple[models.Arch, str]:
    """The KRR kernel's architecture and a description of it (recorded in the result).

    "fc": the infinite-width NNGP/NTK of the evaluation MLP (two hidden layers, ReLU, NTK
    parameterisation so the limit is width-free) — cheap on any machine. "conv": the ConvNet
    evaluation architecture *without* instance norm (no exact kernel exists with it, see
    ntkbench.kernels.infinite) — exact conv kernels with average pooling cost O(P²) per pair
    (P spatial positions) and are very slow on a CPU for 28×28 inputs.
    """
    archs = eval_archs(num_classes, budget)
    if budget.kernel == "fc":
        arch = archs["mlp"].replace(parameterization="ntk")
        return arch, (
            f"fc: infinite-width kernel of the MLP {len(arch.widths)}x{arch.widths[0]} ReLU (NTK parameterisation)"
        )
    arch = archs["convnet"].replace(norm=None, parameterization="ntk")
    return arch, (
        f"conv: infinite-width kernel of the ConvNet-{len(arch.widths)} (kernel 3, ReLU, 2x avg "
        f"pool) without instance norm, on inputs {tuple(input_shape)}"
    )


def krr_accuracy(
    k: Callable, x_syn: ArrayLike, y_targets: ArrayLike, x_test: ArrayLike, y_test: ArrayLike, ridge: float
) -> float:
    """Test accuracy (percent) of KRR with kernel k trained on (x_syn, y_targets (n, C))."""
    k_ss = gram(k, x_syn)
    k_ts = gram(k, x_test, x_syn)
    pred = np.asarray(krr_fit_predict(k_ss, jnp.asarray(y_targets, k_ss.dtype), k_ts, ridge=ridge))
    if not np.all(np.isfinite(pred)):
        return float("nan")
    return float((pred.argmax(-1) == np.asarray(y_test)).mean() * 100.0)


def label_targets(y_syn: ArrayLike, num_classes: int) -> np.ndarray:
    y = np.asarray(y_syn)
    return np.eye(num_classes, dtype=np.float32)[y] if y.ndim == 1 else y.astype(np.float32)
