"""`reproduce`'s interval verdict: a number published as bounds [lo, hi] is reproduced when the
measured mean lies in [lo - tolerance, hi + tolerance]; synthetic records, no run."""

import io

import pytest

from ntkbench.orchestration import reproduce
from ntkbench.results import result_path, write_json_atomic

# Croce et al. 2019's FC1 l2 cell as an interval entry: robust accuracy in [8.2, 57.2], tolerance 3.2.
INTERVAL = {
    "name": "interval-entry",
    "metric": "robust_acc",
    "value": None,
    "bounds": [8.2, 57.2],
    "tolerance": 3.2,
    "source": "synthetic",
}
POINT = {**INTERVAL, "name": "point-entry", "value": 90.3, "tolerance": 1.0}
del POINT["bounds"]


def record(mean):
    return {"status": "ok", "metrics": {"robust_acc": {"mean": mean, "std": 0.5, "per_seed": [mean] * 3}}}


@pytest.mark.parametrize(
    "measured,expected",
    [
        (30.0, "reproduced"),  # inside the published bounds
        (8.2, "reproduced"),  # at the lower bound
        (57.2, "reproduced"),  # at the upper bound
        (8.2 - 3.2, "reproduced"),  # at the lower edge of the tolerance (4.999999999999999 in floats)
        (57.2 + 3.2, "reproduced"),  # at the upper edge of the tolerance
        (4.9, "not reproduced"),  # just below lo - tol
        (60.5, "not reproduced"),  # just above hi + tol
        (0.0, "not reproduced"),
        (None, "failed"),  # the metric is missing
    ],
)
def test_interval_verdict(measured, expected):
    result = reproduce.verdict(INTERVAL, record(measured) if measured is not None else {"metrics": {}})
    assert result["verdict"] == expected, (measured, result)
    assert result["bounds"] == [8.2, 57.2] and result["published"] is None and result["tolerance"] == 3.2
    assert result["measured"] == measured


def test_point_verdict_is_unchanged_and_has_no_bounds():
    assert reproduce.verdict(POINT, record(91.3))["verdict"] == "reproduced"  # at the edge
    assert reproduce.verdict(POINT, record(89.2))["verdict"] == "not reproduced"
    assert "bounds" not in reproduce.verdict(POINT, record(90.3))


def test_listing_text():
    assert reproduce.published_text(INTERVAL) == "in [8.2, 57.2]"
    assert reproduce.published_text(POINT) == "= 90.3"


@pytest.mark.parametrize(
    "bounds,value",
    [([57.2, 8.2], None), ([8.2], None), ([8.2, "57"], None), ([True, 57.2], None), ([8.2, 57.2], 30.0)],
)
def test_malformed_bounds_are_rejected(bounds, value):
    with pytest.raises(ValueError, match="'bounds' must be"):
        reproduce._check_bounds("adversarial", {**INTERVAL, "bounds": bounds, "value": value})


def test_registry_entries_with_bounds_are_well_formed():
    intervals = [e for e in reproduce.registry() if e.get("bounds") is not None]
    assert intervals, "the adversarial task lists robust accuracies as intervals"
    for e in intervals:
        lo, hi = e["bounds"]
        assert 0.0 <= lo <= hi <= 100.0 and e["value"] is None and e["tolerance"] > 0, e["name"]


def test_status_and_listing_read_the_interval_from_a_result_file(tmp_path):
    """`reproduce --list` on a folder holding a result of exactly the entry's protocol: the interval
    verdict, recomputed from the file; another measured value flips it."""
    entry = next(e for e in reproduce.registry() if e["name"] == "croce2019-fmnist-fc1-plain-l2-10ep-robust")
    run = reproduce.run_spec(entry)
    path = result_path(tmp_path, run.task, run.dataset, run.method, run.config_hash)
    path.parent.mkdir(parents=True)
    write_json_atomic(path, record(20.0))
    assert reproduce.status(entry, tmp_path) == "reproduced: measured 20.00"
    out = io.StringIO()
    reproduce.print_registry([entry], stream=out, out_dir=tmp_path)
    assert "robust_acc in [8.2, 57.2] ± 3.2" in out.getvalue() and "1 reproduced" in out.getvalue()
    write_json_atomic(path, record(61.0))
    assert reproduce.status(entry, tmp_path) == "not reproduced: measured 61.00"


def test_leaderboard_shows_the_interval():
    """The reference row and the verdict beside our row write the interval out, not "—"."""
    from ntkbench.leaderboard.published import published_view, reference_rows

    cell = [e for e in reproduce.registry() if e["name"].startswith("croce2019-fmnist-fc1-plain-l2-10ep-")]
    assert [r["value"] for r in reference_rows(cell, "robust_acc")] == ["clean_acc: 90.30", "[8.20, 57.20]"]
    measured = {"metrics": {"robust_acc": {"mean": 20.0}, "clean_acc": {"mean": 89.0}}}
    view = published_view({"reproduce": [reproduce.verdict(e, measured) for e in cell]}, "robust_acc")
    robust = next(v for v in view if v["text"] == "[8.20, 57.20]")
    assert (
        robust["kind"] == "good"
        and "published [8.20, 57.20] vs measured 20.00 (interval, tol ±3.20)" in robust["title"]
    )
    assert "TE 9.70, LB 42.8, UB 91.8" in robust["title"]
    # the method's page lists the interval as well
    from ntkbench.leaderboard.methods import published_value

    assert [published_value(e) for e in cell] == ["90.30", "[8.20, 57.20]"]
