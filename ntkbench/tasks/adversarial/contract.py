"""The method contract of the `adversarial` task (what a method plugin implements).

An adversarial method is a function registered with `@nb.method`; its keyword-only arguments (each
with a default) are its parameters:

    @nb.method("my-at", task="adversarial", version="1")
    def my_at(key, train: nb.Split, threat: nb.ThreatModel, *, steps=1000, lr=1e-3):
        ...
        return predictor

- `key` is a typed PRNG key (`jax.random.key`), one per seed; `train` the training split (see the
  protocol in `__init__.py`).
- `threat` (third positional argument, never a parameter) is the run's threat model,
  `nb.ThreatModel(norm, eps, lower, upper)` (defined in `ntkbench/attacks/threat.py`): norm "linf"
  or "l2", radius eps, input box [lower, upper] (±inf when unbounded). The method trains against it
  (it may ignore it, as `standard` does) and may use its helpers on (B, ...) batches:
  `random_in_ball(key, x)`, `project(x_adv, x)`, `steepest_direction(grad)`, `clip_box(x)`,
  `distance(x_adv, x)`, `contains(x_adv, x)`. Its eps and box come from the budget, so they are part
  of the protocol and of the config hash, not method parameters; they are the same Python floats
  for every seed.
- The predictor maps (B, *input_shape) inputs in the box to finite (B, num_classes) logits. The
  harness attacks it with input gradients, so it must be differentiable w.r.t. x (a model that is
  not, e.g. a hard threshold on the input, gets flagged "possibly-unreliable", not rejected).
- For the seeds to be vmapped into one compiled program the predictor must be a JAX pytree of
  arrays: a `Classifier` (below), a Flax NNX module, or a `jax.tree_util.Partial(apply, params)`.
  Any other callable (a closure, e.g. what `nb.fit_classifier` returns) works too: the harness then
  calls the method once per seed, outside jit, and the attacks compile once per seed.
- NTK view: the NTK eigen-features are computed for every method (they depend on the dataset and
  the kernel only). The kernel distance needs `nb.Classifier(model, init)` with `model` and `init`
  Flax NNX modules (the trained network and the same network at initialisation, e.g.
  `nnx.merge(graphdef, params)` before and after `nb.train_params`); for any other predictor the
  result's `ntk.kernel_distance` says it is unavailable and the run still succeeds.
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

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.model(x)
