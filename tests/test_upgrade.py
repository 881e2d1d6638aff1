"""Schema 3 for files written before it: `ntkbench upgrade` re-summarises them from their per-seed
values by the rules the tasks write now (censored values never averaged, one-fit values unspread),
and the ranking puts a censored value after every measured one."""

import json

from ntkbench.cli import main
from ntkbench.leaderboard.tables import metric_cell, ranking
from ntkbench.orchestration.consistency import metric_errors
from ntkbench.orchestration.upgrade import upgrade_record
from ntkbench.results import SCHEMA, config_hash, config_of, result_path, validate_record, write_json_atomic
from ntkbench.tasks import get_task

PROVENANCE = {
    "ntkbench_version": "0.2.0",
    "git_commit": "abc",
    "versions": {},
    "backend": "cpu",
    "device": "cpu",
    "x64": False,
    "prng_impl": "threefry2x32",
    "start_time": "2026-12-01T00:00:00+00:00",
    "wall_seconds": 1.0,
    "compile_seconds": 0.0,
}


def schema_2(task, dataset, method, metrics, budget, **extra):
    rec = {
        "schema": "ntkbench.result/2",
        "task": task,
        "task_version": get_task(task).version,
        "dataset": dataset,
        "method": method,
        "method_version": "1",
        "method_origin": "ntkbench",
        "params": {},
        "budget": budget,
        "seeds": 3,
        "root_seed": 0,
        "dataset_fingerprint": None,
        "metrics": metrics,
        "ntk": {},
        "status": "ok",
        "error": None,
        "provenance": dict(PROVENANCE),
        **extra,
    }
    rec["config_hash"] = config_hash(config_of(rec))
    return rec


def old(per_seed, mean, std=None):
    return {"per_seed": per_seed, "mean": mean, "std": std, "ci95": None}


def curve(values_by_n):
    return {f"test_acc@n={n}": old(v, sum(v) / len(v), 0.5) for n, v in values_by_n.items()}


def n_star_record(dataset="mnist1d-shuffled", method="cnn"):
    # the mean curve peaks at 59.5 < 60, one seed crosses 60: schema 2 wrote that seed's 3551 as the mean
    grid = [500, 1000, 4000]
    accs = {500: [40.0, 41.0, 39.0], 1000: [50.0, 49.0, 48.0], 4000: [61.0, 59.0, 58.5]}
    metrics = {
        **curve(accs),
        "n_star@60": old([3551.0, None, None], 3551.0),
        "n_star@40": old([500.0, 500.0, 605.0], 500.0, 60.6),
    }
    return schema_2("sample_complexity", dataset, method, metrics, {"n": grid, "targets": [40.0, 60.0]}, grid=grid)


def test_survivors_mean_of_n_star_becomes_censored_and_per_seed_stays():
    rec = n_star_record()
    new = upgrade_record(rec, now="2026-12-08T00:00:00+00:00")
    m = new["metrics"]["n_star@60"]
    assert m["per_seed"] == [3551.0, None, None] and m["mean"] is None
    assert m["censored"] == {"side": "above", "bound": 4000.0, "reached": 1, "of": 3}
    assert metric_cell("n_star@60", m, "sample_complexity", new)[0] == "> 4000 (1 of 3 seeds)"
    # n* of the mean curve at the grid's smallest n: "≤ 500", one seed above it
    assert new["metrics"]["n_star@40"]["mean"] is None
    assert new["metrics"]["n_star@40"]["censored"] == {"side": "below", "bound": 500.0, "reached": 1, "of": 3}
    # the measurement and the config are untouched; the file says what was done
    assert new["config_hash"] == rec["config_hash"] and new["schema"] == SCHEMA
    assert new["provenance"]["upgraded"]["from"] == "ntkbench.result/2"
    assert new["metrics"]["test_acc@n=500"]["per_seed"] == [40.0, 41.0, 39.0]
    assert validate_record(new, "x") == [] and metric_errors(new, "x") == []


def test_steps_to_reached_by_one_seed_of_three_is_censored_at_the_runs_steps():
    steps = {"per_seed": [9576.4, None, None], "mean": 9576.4, "std": None, "ci95": None}
    flops = {"per_seed": [615.0], "mean": 615.0, "std": None, "ci95": None}
    metrics = {"steps_to@60": steps, "flops_per_step": flops, "flops_to@60": old([9576.4 * 615, None, None], 1.0)}
    rec = schema_2("training_dynamics", "mnist1d", "cnn-gd", metrics, {"steps": 10000}, checkpoints=[0, 10, 10000])
    new = upgrade_record(rec)
    assert new["metrics"]["steps_to@60"]["mean"] is None
    assert new["metrics"]["steps_to@60"]["censored"] == {"side": "above", "bound": 10000.0, "reached": 1, "of": 3}
    assert new["metrics"]["flops_to@60"]["censored"]["bound"] == 10000.0 * 615
    assert new["metrics"]["flops_per_step"] == {"per_seed": [615.0], "mean": 615.0, "std": None, "ci95": None}
    assert metric_cell("flops_per_step", new["metrics"]["flops_per_step"], "training_dynamics")[0] == (
        "615.00 (once per run)"
    )
    assert metric_errors(new, "x") == []


def test_one_fit_for_every_seed_is_marked_deterministic():
    metrics = curve({100: [70.0, 71.0, 72.0], 60000: [90.81, 90.81, 90.81]})
    rec = schema_2("sample_complexity", "fashion_mnist", "ntk-mlp", metrics, {"n": [100, 60000]}, grid=[100, 60000])
    m = upgrade_record(rec)["metrics"]["test_acc@n=60000"]
    assert m == {"per_seed": [90.81] * 3, "mean": 90.81, "std": None, "ci95": None, "deterministic": True}
    assert metric_cell("test_acc@n=60000", m, "sample_complexity")[0] == "90.81 (deterministic)"
    # a trained network at the same n is not: three seeds, three initialisations
    assert "deterministic" not in upgrade_record({**rec, "method": "mlp"})["metrics"]["test_acc@n=60000"]


def test_lza_exponent_through_n_star_at_the_floor_is_not_an_estimate_and_ranks_last():
    task = get_task("sample_complexity")

    def lza(d, method, n_stars):
        grid = [32, 128, 512]
        # the cnn's curve is above 75 % from the grid's smallest n; the mlp's n* grows with d
        accs = {n: [80.0] * 3 for n in grid} if method == "cnn" else {}
        metrics = {**curve(accs), "n_star@75": old(n_stars, sum(n_stars) / 3)}
        rec = schema_2("sample_complexity", f"lza-{d}", method, metrics, {"n": grid, "targets": [75.0]}, grid=grid)
        return upgrade_record(rec)

    floor = [lza(d, "cnn", [32.0, 32.0, 32.0]) for d in (8, 18, 32)]
    grows = [lza(d, "mlp", [64.0 * d, 60.0 * d, 70.0 * d]) for d in (8, 18, 32)]
    derived = {d["template"]["method"]: d for d in task.aggregate(floor + grows)}
    alpha_cnn, alpha_mlp = derived["cnn"]["metrics"]["alpha@75"], derived["mlp"]["metrics"]["alpha@75"]
    assert alpha_cnn["mean"] is None and alpha_cnn["censored"]["reached"] == 0  # schema 2 said 0.0: "best"
    assert abs(alpha_mlp["mean"] - 1.0) < 0.05
    text = metric_cell("alpha@75", alpha_cnn, "sample_complexity")[0]
    assert text.startswith("not an estimate")
    recs = [{**d["template"], "dataset": "lza", "metrics": d["metrics"]} for d in derived.values()]
    order = [row["rec"]["method"] for row in ranking("sample_complexity", recs)["rows"]]
    assert order == ["mlp", "cnn"]  # lower α is better, but a censored α never ranks first


def test_upgrade_command_rewrites_older_files_in_place(tmp_path, capsys):
    rec = n_star_record()
    path = result_path(tmp_path, rec["task"], rec["dataset"], rec["method"], rec["config_hash"])
    write_json_atomic(path, rec)
    assert main(["upgrade", str(tmp_path)]) == 0
    assert "1 files upgraded" in capsys.readouterr().out
    new = json.loads(path.read_text())
    assert new["schema"] == SCHEMA and new["metrics"]["n_star@60"]["mean"] is None
    assert main(["upgrade", str(tmp_path)]) == 0 and "0 files upgraded" in capsys.readouterr().out
    assert main(["upgrade", str(tmp_path / "nowhere")]) == 1
