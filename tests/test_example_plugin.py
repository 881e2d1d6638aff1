"""The example third-party package in examples/ installs and runs through the public commands."""

import json
import subprocess
import sys
from pathlib import Path

from plugin_fixture import install, with_site

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "ntkbench-widemlp"


def test_example_package_installs_and_runs(tmp_path):
    site = tmp_path / "site"
    install(EXAMPLE, site)
    env = with_site(site)
    cli = [sys.executable, "-m", "ntkbench.cli"]
    listed = json.loads(
        subprocess.run(cli + ["list", "--json"], env=env, capture_output=True, text=True, check=True).stdout
    )
    (m,) = [m for m in listed["methods"] if m["name"] == "wide-mlp-ls"]
    assert m["origin"] == "ntkbench-widemlp" and m["params"]["smoothing"] == 0.1
    suite = tmp_path / "s.toml"
    suite.write_text(
        'name = "t"\nseeds = 1\n[[runs]]\ntask = "sample_complexity"\ndatasets = ["mnist1d"]\n'
        'methods = ["wide-mlp-ls"]\nbudget = { n = [100], targets = [30.0], ntk_max_n = 100 }\n'
        "[runs.params.wide-mlp-ls]\nsteps = 100\nwidth = 64\n"
    )
    out = tmp_path / "results"
    run = subprocess.run(
        cli + ["run", str(suite), "--out", str(out)], env=env, capture_output=True, text=True, cwd=ROOT
    )
    assert run.returncode == 0, run.stdout + run.stderr
    (rec,) = [json.loads(p.read_text()) for p in out.rglob("*.json")]
    assert rec["method_origin"] == "ntkbench-widemlp" and rec["status"] == "ok"
    assert "test_acc@n=100" in rec["ntk"]["infinite"]
    site_out = tmp_path / "site_out"
    subprocess.run(
        cli + ["leaderboard", "--results", str(out), "--out", str(site_out)], env=env, check=True, capture_output=True
    )
    assert "wide-mlp-ls" in (site_out / "sample_complexity--mnist1d.html").read_text()
