"""ntkbench: a benchmark for what the neural tangent kernel explains.

The public API a method plugin uses:

    import ntkbench as nb

    @nb.method("my-mlp", task="sample_complexity", version="1")
    def my_mlp(key, train: nb.Split, *, width=256, steps=2000):
        model = lambda rngs: nb.models.Network(nb.models.mlp(train.num_classes, (width,)),
                                               train.input_shape, rngs=rngs)
        return nb.fit_classifier(key, model, train, optimizer=optax.adam(1e-3),
                                 steps=steps, batch_size=128)
"""

__version__ = "0.2.0"

from ntkbench import _moved
from ntkbench.api import *  # noqa: F401,F403  (the public API; see ntkbench/api.py)
from ntkbench.api import __all__ as _api

_moved.install()  # 0.1 module paths (ntkbench.suites, ntkbench.tasks.adversarial_api, ...) still import

__all__ = ["__version__", *_api]
