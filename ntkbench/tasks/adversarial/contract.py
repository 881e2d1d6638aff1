"""The method contract of the `adversarial` task (what a method plugin implements).

An adversarial method is registered with `@nb.method(name, task="adversarial", version=...)` on

    fn(key, train: nb.Split, threat: ThreatModel, *, **params) -> predictor

- `threat` (third positional argument, never a parameter) is the run's threat model,
  `ntkbench.attacks.ThreatModel(norm, eps, lower, upper)`: the method trains against it (it may
  ignore it, as `standard` does). Its eps and box are the budget's, so they are part of the
  protocol and of the config hash, not method parameters; they are the same for every seed.
- The predictor maps (B, *input_shape) inputs in the box to finite (B, num_classes) logits. The
  harness attacks it with input gradients, so it must be differentiable w.r.t. x (a model that is
  not, e.g. a hard threshold on the input, gets flagged "possibly-unreliable", not rejected).
- For the seeds to be vmapped into one compiled program the predictor must be a JAX pytree of
  arrays: a `Classifier` (below), a Flax NNX module, or a `jax.tree_util.Partial(apply, params)`.
  Any other callable (a closure, e.g. what `nb.fit_classifier` returns) works too: the harness then
  calls the method once per seed, outside jit, and the attacks compile once per seed.
- `Classifier(model, init)` with `model` a Flax NNX module additionally enables the empirical-NTK
  part of the NTK view (kernel distance between `init`, the network at initialisation, and `model`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Classifier:
    """A trained network (`model(x) -> logits`) and, optionally, the same network at init."""

    model: Any
    init: Any = None

    def __call__(self, x):
        return self.model(x)
