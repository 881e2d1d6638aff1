import os

# Tests run on the CPU with a bounded thread pool; no test touches the network.
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Tests compile afresh: no persistent compile cache unless a test turns it on for itself.
os.environ["NTKBENCH_COMPILE_CACHE"] = "0"


import pytest  # noqa: E402 - after the environment above, before anything imports JAX


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    """The toy third-party plugin (tests/plugin_fixture.py) installed once per test module:
    (environment that finds it, its suite file)."""
    from plugin_fixture import plugin_env

    return plugin_env(tmp_path_factory.mktemp("plugin"))
