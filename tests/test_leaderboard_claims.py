"""The claims page (`claims.html`), built from result records written here: each claim's verdict,
statistic, interval and seeds, and its evidence linked to rows and figures that exist."""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pytest
import scipy.stats
from test_leaderboard import record, write_results

from ntkbench.leaderboard import build_site
from ntkbench.results import metric

GRID = [250, 500, 1000, 2000, 4000]
N_STAR = {"cnn": [500.0, 520.0, 560.0], "mlp": [2000.0, 2100.0, 2150.0]}  # a clear CNN advantage


def curve(base: float) -> dict:
    return {f"test_acc@n={n}": metric([base + 5 * i, base + 5 * i + 1, base + 5 * i + 2]) for i, n in enumerate(GRID)}


def claim_records() -> list[dict]:
    """Three claims' results: n* on MNIST-1D (3 seeds a side: supported), steps to 40 % on MNIST-1D
    (2 seeds a side: too few), steps to 50 % on Fashion-MNIST (a seed never got there: censored)."""
    sample = {"n": GRID, "targets": [60.0, 80.0]}
    steps = {"steps": 10_000, "targets": [40.0, 50.0]}
    return [
        record(method=m, seeds=3, budget=sample, metrics={**curve(b), "n_star@60": metric(N_STAR[m], floor=250)})
        for m, b in (("cnn", 50.0), ("mlp", 40.0))
    ] + [
        record("training_dynamics", "mnist1d", m, seeds=2, budget=steps, metrics={"steps_to@40": metric(v)})
        for m, v in (("cnn-gd", [100.0, 120.0]), ("mlp-gd", [3000.0, 3300.0]))
    ] + [
        record(
            "training_dynamics", "fashion_mnist", m, seeds=3, budget=steps,
            metrics={"steps_to@50": metric(v, bound=10_000)},
        )
        for m, v in (("cnn-gd", [40.0, None, 50.0]), ("mlp-gd", [20.0, 25.0, 30.0]))
    ]  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("claims")
    return build_site(write_results(tmp / "results", claim_records()), tmp / "site").parent


def section(site: Path, name: str) -> str:
    page = (site / "claims.html").read_text(encoding="utf-8")
    found = re.search(rf'<section id="claim-{re.escape(name)}">.*?</section>', page, flags=re.S)
    assert found, f"no section for {name}"
    return found.group(0)


def text(fragment: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)))


def ids_of(site: Path, page: str) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', (site / page).read_text(encoding="utf-8")))


def test_a_supported_claim_shows_its_statistic_interval_and_seeds(site):
    s = section(site, "cnn-fewer-examples-mnist1d")
    assert 'class="badge good">supported<' in s
    d = np.asarray(N_STAR["cnn"]) - np.asarray(N_STAR["mlp"])  # same seeds and root seed: paired
    ci = scipy.stats.ttest_1samp(d, 0.0).confidence_interval(0.95)
    d_z = d.mean() / d.std(ddof=1)
    t = text(s)
    assert f"95 % interval [{ci.low:.0f}, {ci.high:.0f}]" in t, t
    assert f"estimate {d.mean():.0f}" in t and f"d_z = {d_z:.3g}" in t, t
    assert "seeds per side cnn 3, mlp 3" in t and "paired t over seeds" in t
    # each side's per-seed values, as read from its file
    assert "a: cnn n_star@60" in t and "500.00 520.00 560.00" in t
    assert "b: mlp n_star@60" in t and "2000 2100 2150" in t


def test_evidence_links_resolve_to_the_runs_rows_and_figures(site):
    s = section(site, "cnn-fewer-examples-mnist1d")
    links = re.findall(r'href="([^"#]+)#([^"]+)"', s)
    rows = [(page, anchor) for page, anchor in links if anchor.startswith("run-")]
    figures = [(page, anchor) for page, anchor in links if anchor.startswith("fig-")]
    written = {rec["method"]: rec["config_hash"] for rec in claim_records() if rec["task"] == "sample_complexity"}
    assert sorted(anchor for _, anchor in rows) == sorted(f"run-{h}" for h in written.values())
    assert figures, "the learning curve shows n*: it is linked"
    for page, anchor in rows + figures:
        assert page == "sample_complexity--mnist1d.html" and anchor in ids_of(site, page), (page, anchor)
    task_page = (site / "sample_complexity--mnist1d.html").read_text(encoding="utf-8")
    row = re.search(rf'<tbody class="rec" id="run-{written["cnn"]}">.*?</tbody>', task_page, flags=re.S)
    assert row and ">cnn</a>" in row.group(0)  # the anchor is the cnn run's own row
    chart = re.search(rf'id="{figures[0][1]}">.*?</figure>', task_page, flags=re.S)
    assert chart and "test accuracy vs n" in chart.group(0)


def test_too_few_seeds_is_inconclusive_never_supported(site):
    s = section(site, "cnn-fewer-steps-mnist1d")
    t = text(s)
    assert 'class="badge neutral">inconclusive<' in s and "supported</span>" not in s
    assert "too few seeds: 2/2 (a claim needs ≥ 3 a side)" in t, t
    assert "seeds per side cnn-gd 2, mlp-gd 2" in t
    assert "100.00 120.00" in t and "3000 3300" in t  # the evidence is still shown


def test_a_censored_value_is_shown_as_censored_and_never_averaged(site):
    s = section(site, "cnn-fewer-steps-fashion-mnist")
    t = text(s)
    assert 'class="badge neutral">inconclusive<' in s
    assert re.search(r"verdict inconclusive — censored: \d of 3 seeds of cnn-gd steps_to@50 not reached", t), t
    assert '<td class="num censored" title="censored: not reached within the run&#x27;s reach"><i>&gt; 10 000</i>' in s
    assert "40.00 > 10 000 50.00 > 10 000 (2 of 3 seeds)" in t, t
    assert not re.search(r"(?<![\w.])45(?:\.0+)?(?![\w.])", t), t  # no mean of the seeds that got there
    assert "95 % interval —" in t and "estimate —" in t


def test_the_index_and_task_pages_link_the_claims_page(site):
    index = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="claims.html"' in index
    claims_ids = ids_of(site, "claims.html")
    for name in ("cnn-fewer-examples-mnist1d", "cnn-fewer-steps-mnist1d", "cnn-fewer-steps-fashion-mnist"):
        assert f'href="claims.html#claim-{name}"' in index and f"claim-{name}" in claims_ids
    task = (site / "training_dynamics--fashion_mnist.html").read_text(encoding="utf-8")
    assert 'href="claims.html#claim-cnn-fewer-steps-fashion-mnist"' in task
    assert "cnn-fewer-examples" not in task  # only the claims about this page's results
    claims_page = (site / "claims.html").read_text(encoding="utf-8")
    listed = set(re.findall(r'<section id="claim-([^"]+)">', claims_page))
    assert "cnn-fewer-examples-fashion-mnist" not in listed  # no page for it on this board
    assert {"cnn-fewer-examples-mnist1d", "cnn-fewer-steps-mnist1d", "cnn-fewer-steps-fashion-mnist"} <= listed
