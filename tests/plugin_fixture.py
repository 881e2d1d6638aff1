"""A throwaway third-party plugin package, written to a folder and installed with pip."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

PYPROJECT = """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "toyplug"
version = "0.0.1"

[project.entry-points."ntkbench.methods"]
toyplug = "toyplug"
"""

MODULE = '''
"""Methods of a third-party package: one honest, three that break the contract."""
import jax.numpy as jnp
import optax
import ntkbench as nb


@nb.method("toy-linear", task="sample_complexity", version="0.1")
def toy_linear(key, train, *, steps=100, lr=0.05):
    """A linear softmax classifier."""
    model = lambda rngs: nb.models.Network(nb.models.mlp(train.num_classes, ()), train.input_shape, rngs=rngs)
    return nb.fit_classifier(key, model, train, optimizer=optax.sgd(lr), steps=steps, batch_size=32)


@nb.method("toy-slow", task="sample_complexity", version="0.1")
def toy_slow(key, train, *, steps=100, lr=0.05):
    """toy-linear, after sleeping $TOYPLUG_SLEEP seconds (a run to interrupt midway)."""
    import os, sys, time

    seconds = float(os.environ.get("TOYPLUG_SLEEP", "0"))
    if seconds:
        print(f"toy-slow: sleeping {seconds} s", file=sys.stderr, flush=True)
        time.sleep(seconds)
    return toy_linear(key, train, steps=steps, lr=lr)


@nb.method("toy-raises", task="sample_complexity", version="0.1")
def toy_raises(key, train):
    raise RuntimeError("toy plugin exploded on purpose")


@nb.method("toy-nan", task="sample_complexity", version="0.1")
def toy_nan(key, train):
    return lambda x: jnp.full((x.shape[0], train.num_classes), jnp.nan)


@nb.method("toy-shape", task="sample_complexity", version="0.1")
def toy_shape(key, train):
    return lambda x: jnp.zeros((x.shape[0], 3))
'''

SUITE = """
name = "toy"
seeds = 2
[[runs]]
task = "sample_complexity"
datasets = ["mnist1d"]
methods = ["toy-linear", "toy-raises", "toy-nan", "toy-shape"]
budget = { n = [50, 100], targets = [20.0] }
"""


def install(package: Path, site: Path) -> Path:
    """pip-install a package folder into `site` (offline, no dependencies); returns `site`, the
    folder to put on PYTHONPATH."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(site),
            str(package),
        ],
        check=True,
    )
    return site


def with_site(site: Path) -> dict:
    """The environment of a subprocess that sees the packages installed into `site`."""
    return {**os.environ, "PYTHONPATH": f"{site}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


def build_plugin(root: Path) -> tuple[Path, Path]:
    """Write the package and install it into root/site; returns (site dir, suite file)."""
    pkg = root / "toyplug_src"
    (pkg / "toyplug").mkdir(parents=True)
    (pkg / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    (pkg / "toyplug" / "__init__.py").write_text(MODULE)
    site = install(pkg, root / "site")
    suite = root / "toy.toml"
    suite.write_text(SUITE)
    return site, suite


ROOT = Path(__file__).resolve().parent.parent


def ntkbench(*args, env_extra=None, **kw) -> subprocess.CompletedProcess:
    """`python -m ntkbench.cli ARGS` from the repository root, output captured."""
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "ntkbench.cli", *map(str, args)], capture_output=True, text=True, env=env, cwd=ROOT, **kw
    )


def plugin_env(root: Path) -> tuple[dict, Path]:
    """The toy plugin installed under `root`: (environment that finds it, its suite file)."""
    site, suite = build_plugin(root)
    return {"PYTHONPATH": f"{site}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}, suite
