"""ntkbench: a benchmark for what the neural tangent kernel explains.

The public API a method plugin uses:

    import optax
    import ntkbench as nb

    @nb.method("my-mlp", task="sample_complexity", version="1")
    def my_mlp(key, train: nb.Split, *, width=256, steps=2000):
        model = lambda rngs: nb.models.Network(nb.models.mlp(train.num_classes, (width,)),
                                               train.input_shape, rngs=rngs)
        return nb.fit_classifier(key, model, train, optimizer=optax.adam(1e-3),
                                 steps=steps, batch_size=128)

What a method is handed, per task (the protocol is the task package's docstring,
`ntkbench/tasks/<task>/__init__.py`, also printed by `ntkbench list <task>`):

    sample_complexity  fn(key, train: nb.Split, *, ...) -> predictor x -> logits
    forgetting         fn(info: nb.StreamInfo, *, ...) -> nb.Learner   (tasks/forgetting/contract.py)
    adversarial        fn(key, train: nb.Split, threat: nb.ThreatModel, *, ...) -> predictor
                                                                        (tasks/adversarial/contract.py)
    distillation       fn(key, train: nb.Split, ipc: int, *, ...) -> (x_syn, y_syn)
    training_dynamics  fn(key, data: nb.DynamicsData, *, ...) -> outputs (checkpoints, probe, C)
                                                                 (tasks/training_dynamics/contract.py)

- `key`: a typed PRNG key (`jax.random.key(...)`, dtype key<fry>), one per seed; use it with
  `jax.random.split`/`fold_in` or `nnx.Rngs(key)`; `jax.random.key_data(key)` gives the raw
  uint32 key where a library wants one.
- `nb.Split(x, y, num_classes)`: x (n, *input_shape), y (n,) integer labels. `num_classes` is a
  Python int and `input_shape` (`x.shape[1:]`, channels-last: mnist1d (40, 1), Fashion-MNIST
  (28, 28, 1)) a tuple of ints, static even when the seeds are vmapped, so both may size arrays.
- Training: `nb.fit_classifier` for a plain classifier; `nb.build` (graphdef, params) plus
  `nb.train_params` for a custom loss or a learner that keeps its parameters in its state;
  `record=nb.Record(x_probe, steps)` records outputs along training inside the same scan;
  `nb.linearize(apply, params0)` is a network's first-order Taylor expansion. See
  docs/writing-a-method.md.
"""

__version__ = "0.2.0"

from ntkbench import _moved
from ntkbench.api import *  # noqa: F401,F403  (the public API; see ntkbench/api.py)
from ntkbench.api import __all__ as _api

_moved.install()  # 0.1 module paths (ntkbench.suites, ntkbench.tasks.adversarial_api, ...) still import

__all__ = ["__version__", *_api]
