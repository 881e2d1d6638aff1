"""The persistent compile cache: on for `ntkbench run`, in `$NTKBENCH_COMPILE_CACHE`, off with 0."""

import os
import subprocess
import sys

SCRIPT = """
import jax, jax.numpy as jnp
from ntkbench.engine.cache import enable_compile_cache
folder = enable_compile_cache()
print(folder)
if folder is not None:
    # a program of milliseconds: every program is stored, however small
    jax.jit(lambda x: jnp.tanh(x @ x.T).sum())(jnp.ones((64, 64))).block_until_ready()
"""


def _run(env_value):
    env = {**os.environ, "NTKBENCH_COMPILE_CACHE": env_value, "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def test_compiled_programs_are_stored_in_the_cache_folder(tmp_path):
    folder = tmp_path / "cache"
    assert _run(str(folder)) == str(folder)
    assert any(folder.iterdir())  # the compiled program was written


def test_zero_turns_the_cache_off(tmp_path):
    assert _run("0") == "None"


def test_a_run_records_its_cache_use_and_its_metrics_do_not_depend_on_it(tmp_path):
    """Cold (empty cache), warm (every program from the cache) and off: the same metrics; the
    provenance says how many programs were looked up and found."""
    from ntkbench.results import iter_results

    suite = tmp_path / "s.toml"
    suite.write_text(
        'name = "s"\nseeds = 2\n[[runs]]\ntask = "sample_complexity"\ndatasets = ["mnist1d"]\n'
        'methods = ["mlp"]\nbudget = { n = [100], targets = [20.0], ntk_view = false }\n'
        "[runs.params.mlp]\nsteps = 20\n"
    )
    found = {}
    for name, cache in (("cold", tmp_path / "cache"), ("warm", tmp_path / "cache"), ("off", "0")):
        env = {**os.environ, "NTKBENCH_COMPILE_CACHE": str(cache), "JAX_PLATFORMS": "cpu"}
        cmd = [sys.executable, "-m", "ntkbench.cli", "run", str(suite), "--out", str(tmp_path / name)]
        subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        ((_, found[name]),) = list(iter_results(tmp_path / name))
    cold, warm = (found[k]["provenance"]["compile_cache"] for k in ("cold", "warm"))
    assert found["off"]["provenance"]["compile_cache"] is None
    assert cold["requests"] > 0 and cold["hits"] == 0
    assert warm["hits"] > 0 and warm["saved_seconds"] > 0
    assert found["cold"]["metrics"] == found["warm"]["metrics"] == found["off"]["metrics"]


def test_datasets_of_one_shape_share_the_compiled_learning_curve(tmp_path):
    """The data are inputs of a learning curve's program, not constants in it: MNIST-1D with
    its signals permuted (same shapes, same labels) finds every program of the MNIST-1D run in
    the cache, so it compiles nothing; the metrics differ (other data)."""
    from ntkbench.results import iter_results

    suite = tmp_path / "s.toml"
    suite.write_text(
        'name = "s"\nseeds = 2\n[[runs]]\ntask = "sample_complexity"\ndatasets = ["mnist1d", "mnist1d-shuffled"]\n'
        'methods = ["mlp"]\nbudget = { n = [100, 200], targets = [20.0], ntk_view = false }\n'
        "[runs.params.mlp]\nsteps = 20\n"
    )
    env = {**os.environ, "NTKBENCH_COMPILE_CACHE": str(tmp_path / "cache"), "JAX_PLATFORMS": "cpu"}
    cmd = [sys.executable, "-m", "ntkbench.cli", "run", str(suite), "--out", str(tmp_path / "out")]
    subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    runs = {r["dataset"]: r for _, r in iter_results(tmp_path / "out")}
    first, second = (runs[d]["provenance"]["compile_cache"] for d in ("mnist1d", "mnist1d-shuffled"))
    assert first["requests"] > first["hits"]  # compiled
    assert second["requests"] > 0 and second["hits"] == second["requests"]
    assert runs["mnist1d"]["metrics"] != runs["mnist1d-shuffled"]["metrics"]
