"""Issue #27, items 7 to 9: inputs that were accepted and went wrong at run time are refused in one
line before anything compiles (exit 2 from `run` and `validate`); result files that contradict
themselves are refused by `validate`; names that would leave `--out` are refused at registration;
a run listed in two suites runs once."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ntkbench import cli, registry
from ntkbench.orchestration import runner
from ntkbench.orchestration.suites import SuiteError, expand_suite
from ntkbench.orchestration.validate import validate_result_file
from ntkbench.registry import METHODS, MethodSpec, PluginError, register

ROOT = Path(__file__).resolve().parent.parent

SUITE = """
name = "gaps"
{top}
seeds = 2
[[runs]]
task = "sample_complexity"
datasets = {datasets}
methods = ["mlp"]
{run}
budget = {{ n = {n}, targets = [50.0] }}
[runs.params.mlp]
steps = 10
{params}
"""

# case -> (template fields, words the one-line error must contain)
BAD = {
    "steps-negative": (dict(params="steps = -5"), ["'steps'", "-5"]),
    "batch-size-zero": (dict(params="batch_size = 0"), ["'batch_size'", "> 0"]),
    "width-zero": (dict(params="width = 0"), ["'width'", "> 0"]),
    "n-above-the-dataset": (dict(n="[5000]"), ["'n'", "5000", "4000", "'mnist1d'"]),
    "n-huge": (dict(n="[1000000000000]"), ["'n'", "1000000000000"]),
    "n-empty": (dict(n="[]"), ["'n'", "at least 1"]),
    "steps-huge": (dict(params="steps = 1000000000000"), ["'steps'", "1000000000000"]),
    "lr-nan": (dict(params="lr = nan"), ["'lr'", "finite", "nan"]),
    "lr-inf": (dict(params="lr = inf"), ["'lr'", "finite", "inf"]),
    "lr-minus-inf": (dict(params="lr = -inf"), ["'lr'", "finite"]),
    "root-seed-huge": (dict(top="root_seed = 100000000000000000000"), ["root_seed", "4294967295"]),
    "root-seed-bool": (dict(top="root_seed = true"), ["root_seed", "True"]),
    "seeds-huge": (dict(run="seeds = 1000000000000"), ["seeds", "1000000000000"]),
    "vmap-seeds-string": (dict(run='vmap_seeds = "yes"'), ["vmap_seeds", "'yes'"]),
    "datasets-empty": (dict(datasets="[]"), ["datasets", "empty"]),
    "steps-bool": (dict(params="steps = true"), ["'steps'", "True"]),
}


def _suite(tmp_path: Path, name: str = "bad.toml", **fields: str) -> Path:
    values = {"top": "", "datasets": '["mnist1d"]', "run": "", "n": "[100]", "params": ""} | fields
    if "steps = " in values["params"]:  # the case's own steps replaces the template's
        text = SUITE.replace("steps = 10\n", "")
    else:
        text = SUITE
    path = tmp_path / name
    path.write_text(text.format(**values))
    return path


# 7. validation gaps


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_line_and_exit_2_before_anything_runs(case, tmp_path, capsys, nothing_runs):
    fields, words = BAD[case]
    suite = _suite(tmp_path, **fields)
    out = tmp_path / "out"
    for argv in (["validate", str(suite)], ["run", str(suite), "--out", str(out)]):
        assert cli.main(argv) == 2, (argv, capsys.readouterr())
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err  # one line
        assert str(suite) in err and all(w in err for w in words), err
    assert not out.exists() or not any(out.rglob("*.json"))


def test_the_good_template_validates(tmp_path, capsys):
    assert cli.main(["validate", str(_suite(tmp_path))]) == 0


def test_nan_and_inf_are_refused_in_budgets_too(tmp_path):
    doc = {"runs": [{"task": "training_dynamics", "datasets": "fourier1d", "methods": "mlp-ntk"}]}
    for value in (float("nan"), float("inf")):
        doc["runs"][0]["budget"] = {"lr": value}
        with pytest.raises(SuiteError, match="'lr'.*finite"):
            expand_suite(doc, where="s.toml")


def test_unreadable_files_are_one_line_each_and_validation_goes_on(tmp_path, capsys):
    binary = tmp_path / "binary.toml"
    binary.write_bytes(bytes(range(256)) * 4)
    nested = tmp_path / "nested.toml"
    nested.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    big_int = tmp_path / "big.json"
    big_int.write_text('{"seeds": ' + "9" * 5000 + "}")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    good = _suite(tmp_path, "good.toml")
    assert cli.main(["validate", str(binary), str(nested), str(big_int), str(deep), str(good)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.splitlines()
    for path in (binary, nested, big_int, deep):
        assert sum(str(path) in line for line in lines) == 1, (path, err)
    assert len(lines) == 4, err  # the good suite validated: no line of its own


# 8. result files that contradict themselves


def _copy(src: str, root: Path) -> Path:
    dest = root / src.removeprefix("results/")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / src, dest)
    return dest


# a training-dynamics file with metrics computed once per run (per_seed of length 1), and a
# sample-complexity file whose n* mean is n* of the mean curve (not the mean of per_seed)
ONCE_PER_RUN = "results/training_dynamics/fourier1d/linearised-mlp/1ad5f506ca2cdbe9.json"
DERIVED_MEAN = "results/sample_complexity/fashion_mnist/mlp/bc101fd465aaf4be.json"


def _edit(path: Path, change) -> None:
    record = json.loads(path.read_text())
    change(record)
    path.write_text(json.dumps(record))


def test_committed_shapes_validate(tmp_path):
    for src in (ONCE_PER_RUN, DERIVED_MEAN):
        assert validate_result_file(_copy(src, tmp_path)) == []


def _drop_a_seed(r):
    r["metrics"]["test_acc@n=100"]["per_seed"].pop()


def _per_run_metric_per_seed(r):
    m = r["metrics"]["ntk_steps_to_fit@k=1"]
    m["per_seed"] = m["per_seed"] * r["seeds"]


def _mean_off(r):
    r["metrics"]["test_acc@n=100"]["mean"] += 1e-6


def _std_off(r):
    r["metrics"]["test_acc@n=100"]["std"] *= 1.001


def _ci95_off(r):
    r["metrics"]["test_acc@n=100"]["ci95"][0] -= 0.5


@pytest.mark.parametrize(
    "src, change, words",
    [
        (DERIVED_MEAN, _drop_a_seed, ["metrics.test_acc@n=100.per_seed", "2 values", "seeds is 3"]),
        (ONCE_PER_RUN, _per_run_metric_per_seed, ["metrics.ntk_steps_to_fit@k=1.per_seed", "once per run"]),
        (DERIVED_MEAN, _mean_off, ["metrics.test_acc@n=100.mean", "per_seed"]),
        (DERIVED_MEAN, _std_off, ["metrics.test_acc@n=100.std", "per_seed"]),
        (DERIVED_MEAN, _ci95_off, ["metrics.test_acc@n=100.ci95", "per_seed"]),
    ],
)
def test_a_metric_that_contradicts_its_per_seed_values_is_refused(src, change, words, tmp_path):
    path = _copy(src, tmp_path)
    _edit(path, change)
    errors = validate_result_file(path)
    assert errors and all(str(path) in e for e in errors), errors
    assert any(all(w in e for w in words) for e in errors), errors
    if change in (_mean_off, _std_off, _ci95_off):
        assert len(errors) == 1, errors  # the other fields still follow from per_seed


def test_a_result_file_must_lie_where_its_config_hash_says(tmp_path):
    path = _copy(DERIVED_MEAN, tmp_path)
    renamed = path.with_name("0123456789abcdef.json")
    path.rename(renamed)
    (error,) = validate_result_file(renamed)
    assert "0123456789abcdef.json" in error and "bc101fd465aaf4be.json" in error
    moved = tmp_path / "sample_complexity" / "mnist1d" / "mlp" / path.name
    moved.parent.mkdir(parents=True)
    renamed.rename(moved)
    (error,) = validate_result_file(moved)
    assert "sample_complexity/fashion_mnist/mlp/" in error


# 9. names, messages, suites


def _probe(key, train):
    pass


@pytest.mark.parametrize("name", ["../../../x", "a/b", "Caps", "-lead", ".hidden", "", "sp ace"])
def test_a_method_name_that_is_not_a_plain_path_part_is_refused(name, monkeypatch):
    registry.load_plugins()
    monkeypatch.setattr(METHODS, "_items", dict(METHODS._items))
    with pytest.raises(PluginError, match="from evilpkg") as e:
        register(MethodSpec(name, "sample_complexity", _probe, "1", {}, "evilpkg", "evilpkg.methods"))
    assert repr(name) in str(e.value)
    register(MethodSpec("ok-name_1.2", "sample_complexity", _probe, "1", {}, "goodpkg", "goodpkg.methods"))


def test_a_task_name_outside_the_pattern_is_refused():
    from ntkbench.tasks import register_task
    from ntkbench.tasks.base import Task

    class Escape(Task):
        name = "../escape"

    with pytest.raises(PluginError, match="'../escape'"):
        register_task(Escape())


def test_a_dataset_name_outside_the_pattern_is_refused():
    from ntkbench.data import register_dataset

    with pytest.raises(PluginError, match="'../data'"):
        register_dataset("../data")(lambda name, data_dir: None)


@pytest.mark.parametrize(
    "doc, message",
    [
        ({"colour": 1, "runs": []}, "unknown_top.toml: unknown field 'colour'"),
        (
            {"runs": [{"task": "sample_complexity", "datasets": "mnist1d", "methods": "mlp", "colour": 1}]},
            "unknown_top.toml: runs[0]: unknown field 'colour'",
        ),
        (
            {"runs": [{"task": "sample_complexity", "datasets": "mnist1d", "methods": "mlp", "budgt": {}}]},
            "unknown_top.toml: runs[0]: unknown field 'budgt'; did you mean 'budget'?",
        ),
    ],
)
def test_unknown_fields_are_named_after_the_file(doc, message):
    with pytest.raises(SuiteError) as e:
        expand_suite(doc, where="unknown_top.toml")
    assert str(e.value) == message


def test_a_run_in_two_suites_runs_once(tmp_path, monkeypatch, capsys):
    executed = []

    def execute(runs, out, executor, **kwargs):
        executed.extend(runs)
        return []

    monkeypatch.setattr(runner, "execute", execute)
    a = _suite(tmp_path, "a.toml")
    b = tmp_path / "b.toml"  # a run of its own, then a's run
    own = '[[runs]]\ntask = "sample_complexity"\ndatasets = ["mnist1d"]\nmethods = ["cnn"]\n'
    b.write_text(a.read_text().replace('name = "gaps"', 'name = "other"').replace("[[runs]]", own + "[[runs]]", 1))
    assert cli.main(["run", str(a), str(b), "--out", str(tmp_path / "out")]) == 0
    hashes = [r.config_hash for r in executed]
    assert len(hashes) == 2 and len(set(hashes)) == 2, [r.run_id for r in executed]
    assert [(r.method, r.suite) for r in executed] == [("mlp", "gaps"), ("cnn", "other")]  # the first, in order


def test_a_run_listed_twice_in_one_suite_is_still_an_error(tmp_path):
    run = {"task": "sample_complexity", "datasets": "mnist1d", "methods": "mlp"}
    with pytest.raises(SuiteError, match="listed twice"):
        expand_suite({"runs": [run, dict(run)]}, where="s.toml")
