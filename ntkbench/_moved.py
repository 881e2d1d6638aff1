"""Module paths of ntkbench 0.1 that moved in 0.2, still importable (with a DeprecationWarning).

A plugin written against 0.1 that imported, say, `ntkbench.tasks.adversarial_api.Classifier`
keeps working and is told the new path; `import ntkbench as nb` names never moved.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

MOVED = {
    "ntkbench.suites": "ntkbench.orchestration.suites",
    "ntkbench.validate": "ntkbench.orchestration.validate",
    "ntkbench.reproduce": "ntkbench.orchestration.reproduce",
    "ntkbench.engine.runner": "ntkbench.orchestration.runner",
    "ntkbench.tasks.forgetting_api": "ntkbench.tasks.forgetting.contract",
    "ntkbench.tasks.forgetting_metrics": "ntkbench.tasks.forgetting.metrics",
    "ntkbench.tasks.forgetting_ntk": "ntkbench.tasks.forgetting.ntk",
    "ntkbench.tasks.adversarial_api": "ntkbench.tasks.adversarial.contract",
    "ntkbench.tasks.adversarial_ntk": "ntkbench.tasks.adversarial.ntk",
    "ntkbench.tasks.distillation_eval": "ntkbench.tasks.distillation.evaluation",
    "ntkbench.tasks.augment": "ntkbench.tasks.distillation.augment",
}


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        return importlib.util.spec_from_loader(fullname, self) if fullname in MOVED else None

    def create_module(self, spec):
        new = MOVED[spec.name]
        warnings.warn(
            f"{spec.name} moved to {new} in ntkbench 0.2; import it from there "
            "(or use the public names of `import ntkbench as nb`)",
            DeprecationWarning,
            stacklevel=3,
        )
        return importlib.import_module(new)

    def exec_module(self, module):
        pass  # the module is the new one, already executed


def install() -> None:
    if not any(isinstance(f, _Alias) for f in sys.meta_path):
        sys.meta_path.insert(0, _Alias())  # before the path finder: `ntkbench/suites/` is now a data folder
