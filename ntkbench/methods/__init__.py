"""Built-in reference methods. Each is a short plugin written against the public `ntkbench` API,
registered exactly as a third-party method would be."""

from ntkbench.methods import sample_complexity  # noqa: F401
from ntkbench.methods import forgetting  # noqa: F401
from ntkbench.methods import distillation  # noqa: F401
from ntkbench.methods import adversarial  # noqa: F401
