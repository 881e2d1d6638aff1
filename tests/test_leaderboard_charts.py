"""What the leaderboard's charts call their series, and the tables it shows instead of prose."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from ntkbench.charts import grouped, run_name, series_labels
from ntkbench.leaderboard import build_site
from ntkbench.results import config_hash, config_of, metric, write_json_atomic
from ntkbench.tasks import TASKS

ROOT = Path(__file__).resolve().parents[1]
DM = {"batch_real": 64, "depth": 3, "iterations": 200, "lr": 1.0, "momentum": 0.5, "pool": None, "width": 128}


def run(method: str, params: dict, budget: dict | None = None, acc: float = 50.0) -> dict:
    return {
        "method": method,
        "task_version": 1,
        "status": "ok",
        "params": params,
        "budget": budget or {"ipc": 10},
        "metrics": {"test_acc@convnet": metric([acc, acc + 1.0])},
    }


def test_labels_name_only_the_field_that_differs_in_words():
    recs = [run("dm", DM), run("dm", {**DM, "width": 32}), run("kip", {"lr": 0.01}), run("random", {})]
    assert series_labels(recs) == ["dm (width 128)", "dm (width 32)", "kip", "random"]
    # nested budgets (a threat model), lists and None: words, never JSON
    threat = [run("pgd", {}, {"threat": {"eps": 0.1, "norm": "linf"}}), run("pgd", {}, {"threat": {"eps": None}})]
    assert series_labels(threat) == ["pgd (eps 0.1)", "pgd (eps none)"]
    assert series_labels([run("s", {"widths": [32, 64]}), run("s", {"widths": []})]) == [
        "s (widths 32,64)",
        "s (widths none)",
    ]
    # budget only where the params do not tell the runs apart; runs alike in everything are numbered
    assert series_labels([run("m", {}, {"ipc": 1}), run("m", {}, {"ipc": 10})]) == ["m (ipc 1)", "m (ipc 10)"]
    assert series_labels([run("m", {}), run("m", {})]) == ["m #1", "m #2"]


def test_labels_tell_apart_runs_that_differ_in_many_fields():
    """Runs differing in more than three fields are still told apart (the field that does it is
    chosen), and at most three params make up the rest."""
    base = {"a": 1, "b": 1, "c": 1, "d": 1, "e": 1}
    recs = [run("m", base), run("m", {**base, "a": 2, "b": 2, "c": 2, "d": 2}), run("m", {**base, "e": 2})]
    names = series_labels(recs)
    assert len(set(names)) == 3 and all(n.count(",") <= 2 for n in names), names
    assert all("e " in n for n in names), names  # e is needed to tell the first and third apart


def test_grouped_series_of_a_task_chart_name_the_differing_param():
    """The distillation accuracy-vs-ipc chart groups runs over ipc: its legend names the param the
    groups differ in, not the params as JSON."""
    recs = [run("dm", DM, {"ipc": ipc}, 40.0 + ipc) for ipc in (1, 10)]
    recs += [run("dm", {**DM, "iterations": 100}, {"ipc": 10}), run("kip", {"lr": 0.01}, {"ipc": 1})]
    series = grouped(recs, ("ipc",), "test_acc@convnet")
    assert [s.label for s in series] == ["dm (iterations 200)", "dm (iterations 100)", "kip"]
    assert [len(s.points) for s in series] == [2, 1, 1]
    for chart in TASKS.get("distillation").figures(recs):
        shown = [s.label for s in chart.series] + [chart.title]
        assert not any(c in text for text in shown for c in '{"'), shown


def test_no_legend_or_view_table_on_the_committed_board_is_json(tmp_path):
    site = build_site(ROOT / "results" / "distillation", tmp_path / "site").parent
    page = (site / "distillation--fashion_mnist.html").read_text(encoding="utf-8")
    legends = re.findall(r"<text[^>]*>([^<]*)</text>", page)
    tables = "".join(re.findall(r'<table class="view">.*?</table>', page, flags=re.S))
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", tables)
    assert legends and cells
    assert {"dm", "dm (reduced)", "herding", "herding (reduced)"} <= set(legends)  # full and KRR-only runs
    assert not any("{" in html.unescape(t) or '"' in html.unescape(t) for t in legends + cells)


def _old_paragraph_numbers(rec: dict) -> list[str]:
    """The three numbers per run the NTK caption used to list inline: logit residual vs probe and
    vs test split, softmax residual vs probe."""
    corr = rec["ntk"]["rank_correlation"]
    keys = [
        "spearman(predicted_drop@logits,measured_drop_probe)",
        "spearman(predicted_drop@logits,measured_drop_test)",
        "spearman(predicted_drop@softmax,measured_drop_probe)",
    ]
    return [f"{corr[k]:.2f}" if isinstance(corr.get(k), float) else "n/a" for k in keys]


def test_forgetting_spearman_is_a_table_with_every_number_of_the_old_paragraph(tmp_path):
    results = ROOT / "results" / "forgetting" / "fashion_mnist"
    site = build_site(results, tmp_path / "site").parent
    page = (site / "forgetting--fashion_mnist.html").read_text(encoding="utf-8")
    twin = (site / "forgetting--fashion_mnist.md").read_text(encoding="utf-8")
    table = re.search(r'<div class="ctitle">NTK view: Spearman ρ[^<]*</div>(<table class="view">.*?</table>)', page)
    assert table, "no Spearman table on the forgetting page"
    head = [html.unescape(c) for c in re.findall(r"<th>([^<]*)</th>", table.group(1))]
    assert head == ["method", "predictor", "Spearman ρ, probe", "Spearman ρ, test split"]
    rows = [
        [html.unescape(c) for c in re.findall(r"<td[^>]*>([^<]*)</td>", tr)]
        for tr in re.findall(r"<tr><td.*?</tr>", table.group(1))
    ]
    assert "Spearman ρ over all task pairs" not in page  # the old inline list is gone
    recs = [json.loads(p.read_text()) for p in sorted(results.rglob("*.json"))]
    runs = [r for r in recs if r["status"] == "ok" and r["ntk"].get("pairs")]
    ok = [r for r in recs if r["status"] == "ok" and not r.get("derived")]
    names = dict(zip((r["config_hash"] for r in ok), series_labels(ok)))
    assert len(runs) >= 2
    for rec in runs:
        label = run_name(names[rec["config_hash"]], rec)  # marked "(reduced)" at a reduced budget
        mine = {row[1]: row[2:] for row in rows if row[0] == label}
        probe_logits, test_logits, probe_softmax = _old_paragraph_numbers(rec)
        assert mine["logit residual"] == [probe_logits, test_logits], (label, mine)
        assert mine["softmax residual"][0] == probe_softmax, (label, mine)
        # the Markdown twin has the same rows
        assert f"| {label} | logit residual | {probe_logits} | {test_logits} |" in twin
        assert f"| {label} | softmax residual | {probe_softmax} | {mine['softmax residual'][1]} |" in twin
    assert "| method | predictor | Spearman ρ, probe | Spearman ρ, test split |" in twin


# ---- full-protocol and reduced-budget runs, task versions: never one line -----------------------

FULL, CUT = {"full": True, "deviations": []}, {"full": False, "deviations": ["seeds 1 of 3"]}


def test_grouped_never_joins_full_and_reduced_runs_or_task_versions():
    full = [{**run("kip", {"lr": 0.01}, {"ipc": 1}, 60.0), "_protocol": FULL}]
    cut = [{**run("kip", {"lr": 0.01}, {"ipc": ipc}, 70.0 + ipc), "_protocol": CUT} for ipc in (10, 50)]
    newer = [{**run("kip", {"lr": 0.01}, {"ipc": 1}, 65.0), "_protocol": FULL, "task_version": 2}]
    series = grouped(full + cut + newer, ("ipc",), "test_acc@convnet")
    assert [(s.legend, [p[0] for p in s.points], s.reduced) for s in series] == [
        ("kip (task_version 1)", [1.0], False),
        ("kip (task_version 1) (reduced)", [10.0, 50.0], True),
        ("kip (task_version 2)", [1.0], False),
    ]
    assert series[0].group == series[1].group != series[2].group  # one colour per run kind


def test_a_board_from_a_mix_draws_reduced_runs_apart(tmp_path):
    """Distillation results that mix full-protocol runs (ipc 1) and reduced ones (ipc 10) of the
    same methods: each accuracy-vs-ipc line holds one kind, the reduced one dashed, lighter
    and "(reduced)" in the legend, and the caption says what that means."""
    from ntkbench.leaderboard import load_results, sections_of
    from ntkbench.leaderboard.pages import figure_view

    # the committed full-protocol runs (ipc 1) and a reduced one made from herding's at ipc 10 (the
    # committed reduced runs evaluate KRR only, so they are not on the ConvNet chart)
    src = ROOT / "results" / "distillation" / "fashion_mnist"
    mix = tmp_path / "mix" / "distillation" / "fashion_mnist"
    for path in src.rglob("*.json"):
        rec = json.loads(path.read_text())
        if rec.get("protocol", {}).get("full"):
            write_json_atomic(mix / rec["method"] / path.name, rec)
            if rec["method"] == "herding":
                reduced = {**rec, "budget": {**rec["budget"], "ipc": 10, "eval_epochs": 50}}
                reduced["protocol"] = {"full": False, "deviations": ["eval_epochs 50 of 300"]}
                reduced["config_hash"] = config_hash(config_of(reduced))
                write_json_atomic(mix / "herding" / f"{reduced['config_hash']}.json", reduced)
    recs, _ = load_results(mix)
    (section,) = sections_of("distillation", recs)
    chart = next(c for c in section["figures"] if c.title == "test_acc@convnet vs images per class")
    runs = [r for r in recs if r["status"] == "ok" and "test_acc@convnet" in r["metrics"]]
    assert {r["_protocol"]["full"] for r in runs} == {True, False}
    for se in chart.series:  # every point comes from runs of the series' own kind
        method = se.label.split(" (")[0]
        mine = [r for r in runs if r["method"] == method and r["budget"]["ipc"] in {p[0] for p in se.points}]
        assert mine and {r["_protocol"]["full"] for r in mine} == {not se.reduced}, se
    assert {"herding", "herding (reduced)"} <= {se.legend for se in chart.series}
    view = figure_view(chart)
    assert view is not None and "reduced budget" in view["caption"]
    legend = re.findall(r"<text[^>]*>([^<]*)</text>", str(view["svg"]))
    assert "herding (reduced)" in legend and "herding" in legend


def test_task_versions_are_charted_apart():
    from ntkbench.leaderboard import sections_of

    recs = [
        {**run("kip", {"lr": 0.01}, {"ipc": ipc}, 60.0 + ipc), "task": "distillation", "task_version": v}
        for v, ipc in ((1, 1), (1, 10), (2, 50))
    ]
    sections = sections_of("distillation", recs)
    assert [s["version"] for s in sections] == [1, 2]
    xs = [{p[0] for c in s["figures"] for se in c.series for p in se.points} for s in sections]
    assert xs == [{1.0, 10.0}, {50.0}]
