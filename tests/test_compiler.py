"""The unrolled Threefry hash on CPU (ntkbench/engine/compiler.py): the same bits, no loop."""

import os
import pickle
import subprocess
import sys

import jax
import numpy as np

from ntkbench.engine import compiler

# Every kind of draw the tasks make, in one program and eagerly, as integers and floats.
DRAWS = """
import jax, jax.numpy as jnp, numpy as np

def draws(key):
    k1, k2 = jax.random.split(jax.random.fold_in(key, 7))
    return (
        jax.random.key_data(jax.random.split(k1, (5, 2))),
        jax.random.randint(k2, (64,), 0, 1000),
        jax.random.normal(k1, (33, 3)),
        jax.random.permutation(k2, 257),
        jax.random.bits(key, (17,), jnp.uint32),
    )

def sample():
    keys = jax.random.split(jax.random.key(3), 4)
    jitted = jax.jit(jax.vmap(draws))(keys)
    eager = draws(jax.random.key(11))
    return [np.asarray(a) for a in (*jitted, *eager)]
"""


def _sample(unrolled: bool, program: bool = False):
    """The draws (or, with `program`, the compiled text of a `split`) in a fresh process, with
    JAX's own lowering or the unrolled one."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    what = (
        "jax.jit(lambda k: jax.random.split(k, 4)).lower(jax.random.key(0)).compile().as_text()"
        if program
        else "sample()"
    )
    code = DRAWS + (
        "\nfrom ntkbench.engine.compiler import unroll_threefry_on_cpu\n"
        f"assert unroll_threefry_on_cpu() if {unrolled} else True\n"
        f"import pickle, sys\nsys.stdout.buffer.write(pickle.dumps({what}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=True)
    return pickle.loads(out.stdout)


def test_unrolled_threefry_draws_the_same_bits_as_jax_rolled_one():
    rolled, unrolled = _sample(False), _sample(True)
    assert len(rolled) == len(unrolled) == 10
    for a, b in zip(rolled, unrolled):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


def test_the_unrolled_hash_compiles_without_a_loop():
    """What makes it cheaper: the rolled lowering is a while loop (kernels of its own per round
    trip); written out, the rounds fuse with the rest."""
    assert compiler.unroll_threefry_on_cpu()  # conftest configured this process; idempotent
    split = jax.jit(lambda k: jax.random.split(k, 4)).lower(jax.random.key(0)).compile().as_text()
    assert " while(" not in split
    assert " while(" in _sample(False, program=True)
