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
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)  # store even this tiny program
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
