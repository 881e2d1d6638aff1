from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

import ntkbench as nb
from ntkbench.orchestration.suites import SuiteError, expand_suite
from ntkbench.registry import PluginError, get_method


def test_duplicate_name_names_both_origins(monkeypatch):
    """Another package's method under a taken name is skipped (no error at import: every other
    command keeps working); the name is refused with a message naming both packages."""
    from ntkbench import registry

    spec = get_method("mlp")
    monkeypatch.setattr(registry, "_COLLISIONS", {})

    @nb.method("mlp", task="sample_complexity", version="9")
    def mlp(key, train):
        pass

    with pytest.raises(PluginError) as e:
        get_method("mlp")
    msg = str(e.value)
    assert (
        "defined by two packages" in msg
        and "sample_complexity" in msg
        and "ntkbench (ntkbench.methods.sample_complexity.mlp)" in msg
    )
    assert "test_registry" in msg and "uninstall" in msg
    monkeypatch.undo()
    assert get_method("mlp") is spec


def test_unknown_method_did_you_mean():
    with pytest.raises(PluginError, match="did you mean 'cnn'"):
        get_method("cn")


def test_params_come_from_keyword_only_defaults_and_unknown_is_named():
    spec = get_method("cnn")
    assert spec.params["channels"] == 25 and spec.params["steps"] == 6000
    with pytest.raises(
        PluginError, match="method 'cnn' from ntkbench: method has no parameter 'chanels'; did you mean 'channels'"
    ):
        spec.resolve_params({"chanels": 3})


def test_parameter_without_default_is_refused():
    with pytest.raises(PluginError, match="needs a default"):

        @nb.method("no-default", task="sample_complexity", version="1")
        def f(key, train, *, width):
            pass


@pytest.mark.parametrize(
    "doc, message",
    [
        (
            {"runs": [{"task": "sample_complexity", "datasets": "mnist1d", "methods": "mlp", "budgt": {}}]},
            "runs[0]: unknown field 'budgt'; did you mean 'budget'",
        ),
        ({"runs": [{"task": "sample_complex", "datasets": "mnist1d", "methods": "mlp"}]}, "runs[0].task: unknown task"),
        (
            {"runs": [{"task": "sample_complexity", "datasets": "mnist1e", "methods": "mlp"}]},
            "runs[0].datasets: unknown dataset 'mnist1e'; did you mean 'mnist1d'",
        ),
        ({"runs": [{"task": "sample_complexity", "datasets": "lza-7", "methods": "mlp"}]}, "d must be 2k^2"),
        (
            {"runs": [{"task": "sample_complexity", "datasets": "mnist1d", "methods": "mlp", "params": {"cnn": {}}}]},
            "runs[0].params.cnn",
        ),
        (
            {
                "runs": [
                    {
                        "task": "sample_complexity",
                        "datasets": "mnist1d",
                        "methods": "mlp",
                        "params": {"mlp": {"widht": 3}},
                    }
                ]
            },
            "did you mean 'width'",
        ),
        (
            {"seeds": 0, "runs": [{"task": "sample_complexity", "datasets": "mnist1d", "methods": "mlp"}]},
            "field 'seeds' must be a positive integer",
        ),
        ({"runs": []}, "field 'runs'"),
    ],
)
def test_suite_errors_name_the_field(doc, message):
    with pytest.raises(SuiteError) as e:
        expand_suite(doc, where="suite.toml")
    assert str(e.value).startswith("suite.toml") and message in str(e.value)


def test_suite_expands_methods_datasets_budgets_and_sweeps():
    runs = expand_suite(
        {
            "seeds": 2,
            "runs": [
                {
                    "task": "sample_complexity",
                    "datasets": ["mnist1d", "lza-8"],
                    "methods": ["mlp", "cnn"],
                    "budget": [{"n": [10]}, {"n": [20]}],
                    "params": {"mlp": [{"width": 8}, {"width": 16}]},
                }
            ],
        },
        where="s",
    )
    assert len(runs) == (2 + 1) * 2 * 2
    assert len({r.config_hash for r in runs}) == len(runs)
    assert all(r.seeds == 2 and r.budget["targets"] == [60.0, 80.0, 90.0] for r in runs)


def test_names_are_scoped_by_task():
    """`ntk-krr` is both a forgetting learner and an adversarial classifier."""
    assert get_method("ntk-krr", "forgetting").task == "forgetting"
    assert get_method("ntk-krr", "adversarial").task == "adversarial"
    with pytest.raises(PluginError, match="several tasks"):
        get_method("ntk-krr")
    with pytest.raises(
        PluginError, match="unknown method 'mlp' for task 'forgetting'.*it is a method of sample_complexity"
    ):
        get_method("mlp", "forgetting")


# -- the built-in methods are entry points, loaded first --------------------------------------------


def method_modules_on_disk() -> set[str]:
    import ntkbench.methods

    return {f"ntkbench.methods.{p.stem}" for p in Path(ntkbench.methods.__file__).parent.glob("[!_]*.py")}


def test_every_builtin_method_module_is_an_entry_point_of_ntkbench():
    """The registry imports no method module by name: a module under ntkbench/methods that
    pyproject.toml does not declare would never load."""
    import importlib.metadata as md

    from ntkbench.registry import ENTRY_POINT_GROUP, all_methods

    declared = {ep.value for ep in md.entry_points(group=ENTRY_POINT_GROUP) if ep.dist and ep.dist.name == "ntkbench"}
    assert declared == method_modules_on_disk()
    assert {s.module for s in all_methods() if s.origin == "ntkbench"} == declared


class FakeEntryPoint:
    """An installed entry point, as far as the registry reads one; loading it records its package."""

    def __init__(self, dist: str, loaded: list):
        self.name, self.value, self.dist, self.loaded = dist, f"{dist}.methods", SimpleNamespace(name=dist), loaded

    def load(self):
        self.loaded.append(self.dist.name)
        return ModuleType(self.value)


def fresh_registry(monkeypatch, entry_points: list):
    from ntkbench import registry

    monkeypatch.setattr(registry.md, "entry_points", lambda group: entry_points)
    monkeypatch.setattr(registry, "_LOAD_ERRORS", [])
    monkeypatch.setattr(registry, "_COLLISIONS", {})
    monkeypatch.setattr(
        registry, "METHODS", registry.Registry("method", error=PluginError, load=registry._load_methods)
    )
    return registry


def test_builtin_entry_points_load_before_other_packages(monkeypatch):
    """Whatever the order of the installed packages, ntkbench's methods register first, so a
    package reusing one of their names is the one skipped."""
    loaded: list[str] = []
    registry = fresh_registry(monkeypatch, [FakeEntryPoint("pkg-x", loaded), FakeEntryPoint("ntkbench", loaded)])
    registry.load_plugins()
    assert loaded == ["ntkbench", "pkg-x"] and registry.plugin_load_errors() == []


def test_a_checkout_that_is_not_installed_reads_its_pyproject(monkeypatch):
    """ntkbench run from a source tree on PYTHONPATH has no metadata: the built-ins' entry points are
    the ones its pyproject.toml declares, still loaded before other packages'."""
    registry = fresh_registry(monkeypatch, [FakeEntryPoint("pkg-x", [])])
    eps = registry._entry_points()
    assert [d for d, _ in eps] == ["ntkbench"] * 5 + ["pkg-x"]
    assert {ep.value for _, ep in eps[:5]} == method_modules_on_disk()


def test_missing_builtin_entry_points_say_to_reinstall(monkeypatch, tmp_path):
    """No metadata and no pyproject.toml: say so, not just 'unknown method'."""
    registry = fresh_registry(monkeypatch, [FakeEntryPoint("pkg-x", [])])
    monkeypatch.setattr(registry, "SOURCE_PYPROJECT", tmp_path / "pyproject.toml")
    with pytest.raises(PluginError, match="no built-in methods.*reinstall"):
        get_method("mlp")
