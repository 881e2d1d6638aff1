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

__version__ = "0.1.0"

from ntkbench import models
from ntkbench.engine.kernel_predictor import krr_predictor
from ntkbench.engine.train import Split, build, fit_classifier, train_params
from ntkbench.registry import MethodSpec, PluginError, method

# The forgetting task's learner contract (imported last: the tasks package uses the names above).
from ntkbench.tasks.forgetting_api import Learner, StreamInfo, TaskData  # noqa: E402

__all__ = ["__version__", "models", "krr_predictor", "Learner", "StreamInfo", "TaskData", "Split", "build", "fit_classifier", "train_params", "MethodSpec",
           "PluginError", "method"]
