import os

# Tests run on the CPU with a bounded thread pool; no test touches the network.
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402 - after the environment above, before anything imports JAX

from ntkbench.engine import compiler  # noqa: E402

# Tests use the persistent compile cache `ntkbench run` uses ($NTKBENCH_COMPILE_CACHE, default
# ~/.cache/ntkbench/jax-compile-cache), in this process and in every CLI process they start: a
# program compiled once, by a test or an earlier `make run`, is loaded instead of compiled again.
# Results do not depend on it (tests/test_compile_cache.py runs cold, warm and off), nor on the
# unrolled Threefry hash the same call turns on (tests/test_compiler.py).
compiler.configure()


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    """The toy third-party plugin (tests/plugin_fixture.py) installed once per test module:
    (environment that finds it, its suite file)."""
    from plugin_fixture import plugin_env

    return plugin_env(tmp_path_factory.mktemp("plugin"))


@pytest.fixture
def built_programs(monkeypatch):
    """The names of the programs compiled (not found in a `ProgramCache`) while the test runs."""
    from ntkbench.engine import seeds

    built, get_or_build = [], seeds.ProgramCache.get_or_build

    def counting(self, key, build):
        if key not in self:
            built.append(key[0])
        return get_or_build(self, key, build)

    monkeypatch.setattr(seeds.ProgramCache, "get_or_build", counting)
    return built


@pytest.fixture
def nothing_runs(monkeypatch):
    """Fail the test if any run is executed (a refused configuration must stop before)."""
    from ntkbench.orchestration import one_run, runner

    def refuse(*args, **kwargs):
        raise AssertionError("a run was executed although its configuration is invalid")

    monkeypatch.setattr(runner, "execute", refuse)
    monkeypatch.setattr(one_run, "execute_one", refuse)
