"""The public API a method plugin uses, re-exported as the top-level `ntkbench` namespace.

The built-in reference methods import it as `from ntkbench import api as nb`, which is exactly
what a third party's `import ntkbench as nb` gives, so they use nothing a plugin could not.
Nothing inside the package imports `ntkbench/__init__.py` itself (an import-linter-checked rule):
this module is where the public names live.
"""

from __future__ import annotations

from ntkbench import models
from ntkbench.attacks.threat import ThreatModel
from ntkbench.engine.kernel_predictor import krr_predictor
from ntkbench.engine.train import Record, Split, build, fit_classifier, linearize, train_params
from ntkbench.registry import MethodSpec, PluginError, method
from ntkbench.tasks.adversarial.contract import Classifier
from ntkbench.tasks.base import (
    ContractError,
    MetricSpec,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    RunContext,
    Steps,
    Task,
    TaskOutput,
)
from ntkbench.tasks.forgetting.contract import Learner, StreamInfo, TaskData
from ntkbench.tasks.training_dynamics.contract import DynamicsData, mse

__all__ = [
    # registering methods
    "method",
    "MethodSpec",
    "PluginError",
    # building and training networks (one `lax.scan` program per run)
    "models",
    "build",
    "fit_classifier",
    "train_params",
    "Record",
    "linearize",
    "mse",
    "krr_predictor",
    # the tasks' method contracts
    "Split",
    "Learner",
    "StreamInfo",
    "TaskData",
    "Classifier",
    "ThreatModel",
    "DynamicsData",
    # typed parameters (`steps: nb.Steps = 1000`): checked before anything compiles
    "PositiveInt",
    "NonNegativeInt",
    "PositiveFloat",
    "NonNegativeFloat",
    "Steps",
    # writing a task
    "Task",
    "TaskOutput",
    "RunContext",
    "MetricSpec",
    "ContractError",
]
