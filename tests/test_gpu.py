"""The GPU path (benchmarks/device_check.sh runs these on a GPU; everywhere else they skip): the
device is recorded in provenance, TensorFlow never holds GPU memory, and a run on the GPU agrees
with the same run's numbers computed on the CPU within float32 tolerance."""

import subprocess
import sys

import jax
import numpy as np
import pytest

on_gpu = pytest.mark.skipif(jax.default_backend() != "gpu", reason="no GPU: JAX's backend is " + jax.default_backend())


@on_gpu
def test_provenance_names_the_gpu():
    from ntkbench.provenance import provenance

    prov = provenance("now", 0.0, 0.0)
    assert prov["backend"] == "gpu" and prov["device"].startswith(("gpu:", "cuda:")), prov["device"]


@on_gpu
def test_tensorflow_holds_no_gpu_memory():
    pytest.importorskip("tensorflow")
    code = (
        "import tensorflow as tf; from ntkbench.data.tfds_data import _hide_gpus_from_tensorflow;"
        "_hide_gpus_from_tensorflow(tf); print(len(tf.config.get_visible_devices('GPU')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "0"


@on_gpu
def test_seeds_program_on_gpu_matches_cpu():
    from ntkbench.engine.seeds import run_seeds, seed_keys

    def fn(key):
        w = jax.random.normal(key, (64, 64))
        return jax.numpy.tanh(w @ w.T).sum()

    keys = seed_keys(0, 4)
    gpu, _ = run_seeds(fn, keys, vmap=True)
    with jax.default_device(jax.devices("cpu")[0]):
        cpu, _ = run_seeds(fn, jax.device_put(keys, jax.devices("cpu")[0]), vmap=True)
    np.testing.assert_allclose(np.asarray(gpu), np.asarray(cpu), rtol=1e-4)
