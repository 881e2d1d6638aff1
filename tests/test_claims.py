"""Claims: synthetic result files -> each verdict; the committed results -> a verdict per claim."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ntkbench.cli import main
from ntkbench.orchestration.claims import all_claims, evaluate, evaluate_claims, seed_values
from ntkbench.tasks.claims import Claim

ROOT = Path(__file__).resolve().parents[1]
BUDGET = {"n": [100, 1000], "targets": [60.0]}


def write(root: Path, method: str, per_seed: dict[str, list], *, budget=None, root_seed=0, name="0", **extra):
    """One result file of sample_complexity/toy/<method> with the given per-seed metrics."""
    metrics = {}
    for metric, values in per_seed.items():
        known = [v for v in values if v is not None]
        # The old files' habit (issue 29): the mean of the seeds that reached it, never null
        # unless none did. The evaluator must not trust it.
        mean = sum(known) / len(known) if known else None
        metrics[metric] = {"mean": mean, "std": None, "ci95": None, "per_seed": values}
    seeds = len(next(iter(per_seed.values())))
    record = {
        "task": "sample_complexity",
        "dataset": "toy",
        "method": method,
        "status": "ok",
        "seeds": seeds,
        "root_seed": root_seed,
        "budget": BUDGET if budget is None else budget,
        "grid": (BUDGET if budget is None else budget)["n"],
        "protocol": {"full": True},
        "schema": "ntkbench.result/2",
        "metrics": metrics,
        **extra,
    }
    path = root / "sample_complexity" / "toy" / method / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))
    return path


def fewer(metric: str = "n_star@60", min_seeds: int = 3) -> Claim:
    return Claim(
        name="toy-fewer",
        statement="cnn needs fewer examples than mlp",
        task="sample_complexity",
        dataset="toy",
        kind="difference",
        metric=metric,
        a="cnn",
        b="mlp",
        direction="less",
        min_seeds=min_seeds,
    )


def test_a_clear_difference_on_the_claimed_side_is_supported(tmp_path):
    write(tmp_path, "cnn", {"n_star@60": [200.0, 230.0, 210.0]})
    write(tmp_path, "mlp", {"n_star@60": [600.0, 640.0, 590.0]})
    r = evaluate(fewer(), tmp_path)
    assert r.verdict == "supported", r
    assert r.estimate == pytest.approx(-396.6667, abs=1e-3)
    assert r.interval is not None and r.interval[1] < 0
    assert r.n == (3, 3) and "paired" in r.statistic and r.effect_name == "d_z" and r.effect < 0
    assert len(r.files) == 2


def test_a_clear_difference_on_the_other_side_is_contradicted(tmp_path):
    write(tmp_path, "cnn", {"n_star@60": [600.0, 640.0, 590.0]})
    write(tmp_path, "mlp", {"n_star@60": [200.0, 230.0, 210.0]})
    r = evaluate(fewer(), tmp_path)
    assert r.verdict == "contradicted" and r.interval[0] > 0


def test_an_interval_containing_zero_is_inconclusive(tmp_path):
    write(tmp_path, "cnn", {"n_star@60": [200.0, 600.0, 400.0]})
    write(tmp_path, "mlp", {"n_star@60": [500.0, 300.0, 420.0]})
    r = evaluate(fewer(), tmp_path)
    assert r.verdict == "inconclusive" and "contains 0" in r.reason
    assert r.interval[0] < 0 < r.interval[1]


def test_too_few_seeds_is_inconclusive_however_large_the_difference(tmp_path):
    write(tmp_path, "cnn", {"n_star@60": [200.0, 201.0]})
    write(tmp_path, "mlp", {"n_star@60": [900.0, 901.0]})
    r = evaluate(fewer(), tmp_path)
    assert r.verdict == "inconclusive" and "too few seeds" in r.reason and r.n == (2, 2)


@pytest.mark.parametrize(
    "cnn",
    [
        [200.0, None, 210.0],  # one seed never reached the target
        [100.0, 230.0, 210.0],  # one seed at the grid's floor: "≤ 100", not 100
    ],
)
def test_a_censored_n_star_is_inconclusive_and_never_averaged(tmp_path, cnn):
    write(tmp_path, "cnn", {"n_star@60": cnn})
    write(tmp_path, "mlp", {"n_star@60": [600.0, 640.0, 590.0]})
    r = evaluate(fewer(), tmp_path)
    assert r.verdict == "inconclusive" and r.reason.startswith("censored: 1 of 3 seeds of cnn")
    assert r.estimate is None and r.interval is None and r.effect is None


def test_a_metric_whose_mean_is_null_is_censored_on_every_seed(tmp_path):
    path = write(tmp_path, "cnn", {"n_star@60": [200.0, 230.0, 210.0]})
    record = json.loads(path.read_text())
    record["metrics"]["n_star@60"]["mean"] = None
    assert seed_values(record, "n_star@60") == ([None, None, None], 3)


def test_unpaired_seeds_use_welch_and_missing_results_say_so(tmp_path):
    write(tmp_path, "cnn", {"n_star@60": [200.0, 230.0, 210.0]}, root_seed=1)
    write(tmp_path, "mlp", {"n_star@60": [600.0, 640.0, 590.0, 610.0]})
    r = evaluate(fewer(), tmp_path)
    assert r.verdict == "supported" and "Welch" in r.statistic and r.effect_name == "Cohen's d"
    absent = evaluate(fewer("n_star@90"), tmp_path)
    assert absent.verdict == "inconclusive" and "no results" in absent.reason and absent.files == ()


def test_results_of_different_budgets_are_never_compared(tmp_path):
    write(tmp_path, "cnn", {"n_star@60": [200.0, 230.0, 210.0]})
    write(tmp_path, "mlp", {"n_star@60": [600.0, 640.0, 590.0]}, budget={"n": [100, 2000], "targets": [60.0]})
    r = evaluate(fewer(), tmp_path)
    assert r.verdict == "inconclusive" and "same budget" in r.reason


def test_a_trend_ranks_a_target_never_reached_last(tmp_path):
    steps = {f"steps_to_fit@k={k}": [10.0 * k, 12.0 * k, 9.0 * k] for k in (1, 2, 4)}
    steps["steps_to_fit@k=8"] = [None, None, None]  # never fitted: after every fitted one
    write(tmp_path, "mlp", steps)
    claim = Claim(
        name="toy-trend",
        statement="low first",
        task="sample_complexity",
        dataset="toy",
        kind="trend",
        metric="steps_to_fit@k={x}",
        xs=(1, 2, 4, 8),
        a="mlp",
        direction="greater",
    )
    r = evaluate(claim, tmp_path)
    assert r.verdict == "supported" and r.estimate == 1.0 and r.n == (3,)


def test_the_ntk_view_of_one_seed_is_inconclusive(tmp_path):
    rows = [{"pred": float(i), "meas": float(i) + (i % 3)} for i in range(20)]
    write(tmp_path, "sgd", {"ACC": [50.0, 51.0, 52.0]}, ntk={"pairs": rows})
    claim = Claim(
        name="toy-pairs",
        statement="ranks",
        task="sample_complexity",
        dataset="toy",
        kind="pairs",
        metric="pred vs meas",
        a="sgd",
        x="pred",
        y="meas",
        direction="greater",
    )
    r = evaluate(claim, tmp_path)
    assert r.estimate > 0.9 and r.interval[0] > 0  # a strong correlation over 20 pairs ...
    assert r.verdict == "inconclusive" and "too few seeds: 1" in r.reason  # ... of one network


def test_every_claim_gets_a_verdict_on_the_committed_results():
    results = evaluate_claims(ROOT / "results")
    assert [r.claim.name for r in results] == [c.name for c in all_claims()]
    assert len(results) >= 10
    for r in results:
        assert r.verdict in {"supported", "contradicted", "inconclusive"}, r
        assert r.files or "no " in r.reason, r  # every claim names the files it read
        if r.verdict != "inconclusive":
            assert min(r.n) >= r.claim.min_seeds and r.interval is not None and not r.reason, r


def test_no_censored_value_is_averaged_on_the_committed_results():
    for r in evaluate_claims(ROOT / "results"):
        if r.claim.kind not in ("difference", "mean"):
            continue  # a trend ranks a censored value; a pairs claim reads no metric
        censored = any(seed_values(json.loads(Path(f).read_text()), r.claim.metric)[1] for f in r.files)
        if censored:
            assert r.estimate is None and r.interval is None and r.reason.startswith("censored"), r


def test_reproduce_claims_prints_one_line_per_claim_and_exits_0(capsys):
    assert main(["reproduce", "--claims", "--out", str(ROOT / "results")]) == 0
    out = capsys.readouterr().out.splitlines()
    names = [c.name for c in all_claims()]
    for name in names:
        (line,) = [row for row in out if f" {name}: " in row]
        assert line.split()[0] in {"SUPPORTED", "CONTRADICTED", "INCONCLUSIVE"} and "95 %" in line
    assert out[-1].startswith(f"{len(names)} claims: ")


def test_reproduce_list_shows_each_claims_verdict_beside_the_published_numbers(capsys):
    assert main(["reproduce", "--list", "--out", str(ROOT / "results")]) == 0
    out = capsys.readouterr().out
    published, _, claims = out.partition("\nClaims, tested on ")
    assert "published numbers: " in published
    for r in evaluate_claims(ROOT / "results"):
        assert f"{r.claim.name}\n    {r.claim.task}/{r.claim.dataset}  status: {r.verdict}" in claims
    assert f"\n{len(all_claims())} claims: " in claims
