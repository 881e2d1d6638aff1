"""The package's shape: layers checked by import-linter (`make lint`), plus what it cannot say."""

import ast
import importlib
import warnings
from pathlib import Path

import pytest

from ntkbench.registry import Registry
from ntkbench.tasks import BUILTIN, TASKS, Task, get_task

PACKAGE = Path(__file__).resolve().parent.parent / "ntkbench"


def test_nothing_inside_the_package_imports_ntkbench_itself():
    """`ntkbench/__init__.py` is for users (`import ntkbench as nb`); inside, modules import what
    they use from where it lives (the built-in methods use `from ntkbench import api as nb`)."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "__init__.py" and path.parent == PACKAGE:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import) and any(a.name == "ntkbench" for a in node.names):
                offenders.append(f"{path}:{node.lineno}")
            if isinstance(node, ast.ImportFrom) and node.module == "ntkbench" and node.level == 0:
                if any(
                    not (PACKAGE / a.name).with_suffix(".py").exists() and not (PACKAGE / a.name).is_dir()
                    for a in node.names
                ):
                    offenders.append(f"{path}:{node.lineno}")  # a name from __init__, not a submodule
    assert not offenders


def test_every_builtin_task_is_a_package_with_the_same_parts():
    for name in BUILTIN:
        folder = PACKAGE / "tasks" / name
        parts = {p.name for p in folder.glob("*.py")}
        assert {"__init__.py", "budget.py", "task.py", "figures.py", "published.py"} <= parts, name
        task = get_task(name)
        assert (importlib.import_module(f"ntkbench.tasks.{name}").__doc__ or "").strip(), name  # the protocol
        assert task.metrics and any(m.headline for m in task.metrics), name
        # published numbers, or published.py saying why there are none yet (only a table with a
        # protocol read at the source goes in)
        published = importlib.import_module(f"ntkbench.tasks.{name}.published")
        assert task.published or "none yet" in (published.__doc__ or ""), name


@pytest.mark.parametrize(
    "old, new",
    [
        ("ntkbench.suites", "ntkbench.orchestration.suites"),
        ("ntkbench.tasks.adversarial_api", "ntkbench.tasks.adversarial.contract"),
        ("ntkbench.tasks.forgetting_api", "ntkbench.tasks.forgetting.contract"),
    ],
)
def test_moved_modules_still_import_with_a_warning(old, new):
    import sys

    sys.modules.pop(old, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    assert module is importlib.import_module(new)
    assert any(new in str(w.message) for w in caught if w.category is DeprecationWarning)


def test_registry_names_the_closest_match_and_registers_temporarily():
    reg: Registry[str, int] = Registry("colour")
    reg.add("red", 1)
    with pytest.raises(KeyError, match="unknown colour 'rde'; did you mean 'red'"):
        reg.get("rde")
    with pytest.raises(KeyError, match="colour 'red' is defined twice"):
        reg.add("red", 2)
    with reg.temporary("blue", 3):
        assert reg.get("blue") == 3
    assert "blue" not in reg


def test_tasks_registry_serves_temporary_tasks():
    class Toy(Task):
        name = "toy"

    with TASKS.temporary("toy", Toy()):
        assert get_task("toy").name == "toy"
    with pytest.raises(KeyError, match="unknown task 'toy'"):
        get_task("toy")
