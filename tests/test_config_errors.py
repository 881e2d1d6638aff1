"""Typed configuration: bad values are refused by `validate` and `run` with exit 2, the file, the
run and the field named, before anything is executed or compiled, and no result file written."""

import pytest

from ntkbench import cli

SUITE = """
name = "bad"
seeds = 2
[[runs]]
task = "sample_complexity"
datasets = ["mnist1d"]
methods = ["mlp"]
{run_extra}
budget = {{ n = {n}, targets = [50.0] }}
[runs.params.mlp]
steps = {steps}
"""

BAD = {
    "steps-string": (dict(steps='"abc"'), "params.mlp", "'steps'", "'abc'"),
    "steps-float": (dict(steps="3.5"), "params.mlp", "'steps'", "3.5"),
    "n-negative": (dict(n="[-5]"), "budget", "'n[0]'", "-5"),
    "run-seeds": (dict(run_extra="seeds = -2"), "runs[0].seeds", "seeds", "-2"),
}


def _write(tmp_path, **kw):
    fields = {"n": "[100]", "steps": "10", "run_extra": ""} | kw
    path = tmp_path / "bad.toml"
    path.write_text(SUITE.format(**fields))
    return path


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_values_refused_before_anything_runs(case, tmp_path, capsys, nothing_runs):
    values, where, field, shown = BAD[case]
    suite = _write(tmp_path, **values)
    out = tmp_path / "results"
    for argv in (["validate", str(suite)], ["run", str(suite), "--out", str(out)]):
        assert cli.main(argv) == 2, argv
        err = capsys.readouterr().err
        assert str(suite) in err and "runs[0]" in err and where in err and field in err and shown in err, err
        assert "Traceback" not in err
    assert not out.exists() or not any(out.rglob("*.json"))


def test_seeds_zero_on_the_command_line_is_refused(tmp_path, capsys, nothing_runs):
    suite = _write(tmp_path)
    with pytest.raises(SystemExit) as e:
        cli.main(["run", str(suite), "--seeds", "0", "--out", str(tmp_path / "r")])
    assert e.value.code == 2
    assert "--seeds" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_a_good_suite_validates(tmp_path, capsys):
    assert cli.main(["validate", str(_write(tmp_path))]) == 0
    assert capsys.readouterr().out.strip() == "ok"
