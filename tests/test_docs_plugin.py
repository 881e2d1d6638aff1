"""A plugin written from the documentation only (examples/ntkbench-docsplugin/) installs and runs every task.

The package has one method per task (docs-rf-ridge, docs-l2-anchor, docs-class-means, docs-fgsm-mlp); its
suite runs each once on MNIST-1D at a tiny budget through the public CLI, and the result files validate.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

from plugin_fixture import install, with_site

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "examples" / "ntkbench-docsplugin"
METHODS = {
    "sample_complexity": "docs-rf-ridge",
    "forgetting": "docs-l2-anchor",
    "distillation": "docs-class-means",
    "adversarial": "docs-fgsm-mlp",
}


def test_docs_plugin_runs_all_four_tasks(tmp_path):
    pkg = tmp_path / "pkg"  # a copy, so pip's build/ and egg-info never land in the source tree
    shutil.copytree(PACKAGE, pkg, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    env = with_site(install(pkg, tmp_path / "site"))
    cli = [sys.executable, "-m", "ntkbench.cli"]
    out = tmp_path / "results"
    run = subprocess.run(
        cli + ["run", str(PACKAGE / "suite.toml"), "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    records = [json.loads(p.read_text()) for p in sorted(out.rglob("*.json"))]
    assert len(records) == 4, [r["task"] for r in records]
    assert {r["task"]: r["method"] for r in records} == METHODS
    for r in records:
        assert r["status"] == "ok", (r["task"], r.get("error"))
        assert r["method_origin"] == "ntkbench-docsplugin"
        assert r["seeds"] == 1
    val = subprocess.run(cli + ["validate", str(out)], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert val.returncode == 0, val.stdout + val.stderr
