"""The method contract of `training_dynamics`: what a method is handed (`nb.DynamicsData`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from ntkbench.engine.train import Record, Split


def mse(outputs: jax.Array, targets: jax.Array) -> jax.Array:
    """The protocol's loss: L = 1/(2n) Σ_i ‖f(x_i) − y_i‖² (sum over outputs, mean over examples),
    so that gradient descent at learning rate η moves the training outputs by df = −(η/n) Θ (f − y)."""
    return 0.5 * jnp.sum((outputs - targets) ** 2, axis=-1).mean()


@dataclasses.dataclass(frozen=True)
class DynamicsData:
    """A `training_dynamics` problem, handed to a method as `fn(key, data, *, <params>)`.

    x: (n, *input_shape) training inputs; y: (n, C) float32 regression targets (centred one-hot
    labels, or a dataset's known real target); probe: (m, *input_shape) inputs whose outputs the
    method returns, the n training inputs first, then the test inputs; checkpoints: the step counts
    (Python ints, 0 first, increasing, the last is `steps`) at which to return them; lr: the
    learning rate η of the protocol's full-batch gradient descent on `mse` (a Python float).

    The method returns the outputs f_t(probe) after t updates for every t in `checkpoints`:
    an array (len(checkpoints), m, C). `record()` and `split()` are the trainer's views of the
    same data: `nb.fit_classifier(key, model, data.split(), optimizer=optax.sgd(data.lr),
    steps=data.steps, batch_size=None, loss=nb.mse, record=data.record())` is the whole recipe.
    """

    x: jax.Array
    y: jax.Array
    probe: jax.Array
    checkpoints: tuple[int, ...]
    lr: float

    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    @property
    def num_outputs(self) -> int:
        return int(self.y.shape[-1])

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    @property
    def steps(self) -> int:
        return int(self.checkpoints[-1])

    def split(self) -> Split:
        """The training set as an `nb.Split` with float targets (for `train_params` / `fit_classifier`)."""
        return Split(self.x, self.y, self.num_outputs)

    def record(self, apply: Callable[[Any, jax.Array], jax.Array] | None = None) -> Record:
        """`nb.Record` of the probe at the checkpoints (`apply` for `train_params`)."""
        return Record(self.probe, tuple(self.checkpoints), apply)
