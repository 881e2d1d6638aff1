"""Built-in reference methods. Each is a short plugin written against the public `ntkbench` API,
registered exactly as a third-party method would be."""

from ntkbench.methods import (
    adversarial,  # noqa: F401
    distillation,  # noqa: F401
    forgetting,  # noqa: F401
    sample_complexity,  # noqa: F401
    training_dynamics,  # noqa: F401
)
