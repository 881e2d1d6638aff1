"""A third party ships a whole task through the `ntkbench.tasks` entry point group.

The toy task lives in a throwaway package installed into a temporary folder; it is found, run,
validated and shown on the leaderboard without a single file under `ntkbench/` changing.
"""

import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

from plugin_fixture import install, with_site

ROOT = Path(__file__).resolve().parent.parent

PYPROJECT = """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "toytask"
version = "0.0.1"

[project.entry-points."ntkbench.tasks"]
mean_probe = "toytask:TASK"

[project.entry-points."ntkbench.methods"]
toytask = "toytask"
"""

MODULE = '''
"""mean_probe: how far a method's class means sit from the true ones (a toy protocol).

Protocol: the method gets the training split and returns one vector per class; the metric
`mean_error` is the mean L2 distance to the class means of the training split.
"""
import dataclasses
from typing import Annotated

import jax.numpy as jnp
import numpy as np
from annotated_types import Gt

import ntkbench as nb


@dataclasses.dataclass(frozen=True)
class Budget:
    train_examples: Annotated[int, Gt(0)] = 200


class MeanProbe(nb.Task):
    name = "mean_probe"
    version = 1
    Budget = Budget
    metrics = (nb.MetricSpec("mean_error", unit="", higher_is_better=False, headline=True),)

    def run(self, ctx):
        ds, n = ctx.dataset, ctx.budget.train_examples
        x, y = np.asarray(ds.x_train[:n]).reshape(n, -1), np.asarray(ds.y_train[:n])
        train = nb.Split(jnp.asarray(x), jnp.asarray(y), ds.num_classes)
        truth = np.stack([x[y == c].mean(0) for c in range(ds.num_classes)])
        errors = []
        for seed in range(ctx.seeds):
            means = np.asarray(ctx.method.fn(seed, train, **ctx.params))
            errors.append(float(np.linalg.norm(means - truth, axis=1).mean()))
        std = float(np.std(errors, ddof=1))  # the sample std, as result files have it
        return nb.TaskOutput(metrics={"mean_error": {"mean": float(np.mean(errors)), "std": std, "per_seed": errors}},
                             ntk={})


TASK = MeanProbe()


@nb.method("exact-means", task="mean_probe", version="1")
def exact_means(seed, train, *, shrink=0.0):
    """Class means, shrunk towards zero by `shrink`."""
    x, y = np.asarray(train.x), np.asarray(train.y)
    return np.stack([x[y == c].mean(0) for c in range(train.num_classes)]) * (1.0 - shrink)
'''

SUITE = """
name = "toy-task"
seeds = 2
[[runs]]
task = "mean_probe"
datasets = ["mnist1d"]
methods = ["exact-means"]
budget = { train_examples = 300 }
[runs.params.exact-means]
shrink = 0.5
"""


def _tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            h.update(str(p.relative_to(root)).encode() + p.read_bytes())
    return h.hexdigest()


def test_third_party_task_runs_end_to_end(tmp_path):
    before = _tree_digest(ROOT / "ntkbench")
    pkg = tmp_path / "toytask_src"
    pkg.mkdir()
    (pkg / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    (pkg / "toytask.py").write_text(MODULE)
    site = tmp_path / "site"
    install(pkg, site)
    env = with_site(site)
    cli = [sys.executable, "-m", "ntkbench.cli"]

    listed = json.loads(
        subprocess.run(cli + ["list", "--json"], env=env, capture_output=True, text=True, check=True).stdout
    )
    assert "mean_probe" in [t["name"] for t in listed["tasks"]]
    suite = tmp_path / "toy.toml"
    suite.write_text(SUITE)
    out = tmp_path / "results"
    run = subprocess.run(cli + ["run", str(suite), "--out", str(out)], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "mean_error" in run.stdout  # the runner prints the task's own headline metric
    (path,) = out.rglob("*.json")
    rec = json.loads(path.read_text())
    assert rec["task"] == "mean_probe" and rec["status"] == "ok" and rec["method_origin"] == "toytask"
    assert rec["budget"] == {"train_examples": 300} and rec["params"] == {"shrink": 0.5}
    assert rec["metrics"]["mean_error"]["mean"] > 0  # shrinking by half cannot match the true means

    valid = subprocess.run(cli + ["validate", str(out)], env=env, capture_output=True, text=True)
    assert valid.returncode == 0, valid.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text(SUITE.replace("train_examples = 300", "train_examples = -3"))
    refused = subprocess.run(cli + ["validate", str(bad)], env=env, capture_output=True, text=True)
    assert refused.returncode == 2 and "train_examples" in refused.stderr, refused.stderr

    site_out = tmp_path / "site_out"
    subprocess.run(
        cli + ["leaderboard", "--results", str(out), "--out", str(site_out)], env=env, check=True, capture_output=True
    )
    page = (site_out / "mean_probe--mnist1d.html").read_text()
    assert "exact-means" in page and "mean_error" in page
    assert _tree_digest(ROOT / "ntkbench") == before  # nothing under ntkbench/ was touched
