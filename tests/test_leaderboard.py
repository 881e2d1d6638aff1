"""The static leaderboard, built from result records written here (no dependency on real runs)."""

from __future__ import annotations

import builtins
import csv
import errno
import io
import os
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from ntkbench.leaderboard import build_site, safe_name
from ntkbench.results import SCHEMA, config_hash, config_of, metric, result_path, write_json_atomic

ROOT = Path(__file__).resolve().parents[1]
EVIL = "<script>alert(1)</script>"
EVIL_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def record(
    task="sample_complexity",
    dataset="mnist1d",
    method="mlp",
    *,
    version=1,
    metrics=None,
    params=None,
    budget=None,
    status="ok",
    error=None,
    start="2026-11-27T23:44:34+00:00",
    **extra,
):
    rec = {
        "schema": SCHEMA,
        "task": task,
        "task_version": version,
        "dataset": dataset,
        "method": method,
        "method_version": "1",
        "method_origin": "ntkbench",
        "params": params or {"width": 100, "lr": 0.01},
        "budget": budget or {"n": [250, 500, 1000, 2000, 4000], "targets": [60.0, 80.0]},
        "seeds": 2,
        "root_seed": 0,
        "dataset_fingerprint": "sha256:ef6e",
        "metrics": metrics or {},
        "ntk": {},
        "status": status,
        "error": error,
        "provenance": {
            "ntkbench_version": "0.1.0",
            "git_commit": "c1e5222+dirty",
            "backend": "cpu",
            "device": "cpu:cpu x1",
            "x64": False,
            "prng_impl": "threefry2x32",
            "start_time": start,
            "wall_seconds": 19.9,
            "compile_seconds": 15.6,
            "versions": {"jax": "0.10.2", "flax": "0.12.8"},
        },
        **extra,
    }
    rec["config_hash"] = config_hash(config_of(rec))
    return rec


def curve(base: float, grid=(250, 500, 1000, 2000, 4000)) -> dict:
    return {f"test_acc@n={n}": metric([base + 5 * i, base + 5 * i + 1]) for i, n in enumerate(grid)}


def records() -> list[dict]:
    """Every kind of row the site must show: four tasks, two task versions, derived, failed,
    reproduce, flags, infinite-width curves, and hostile strings."""
    inf = {"infinite": {f"test_acc@n={n}": {"mean": 70.0 + i, "std": 0.5} for i, n in enumerate((250, 1000, 4000))}}
    matrix = [[90.0, 10.0, 11.0], [40.0, 91.0, 9.0], [30.0, 50.0, 92.0]]
    return [
        record(
            method="mlp",
            metrics={**curve(30), "n_star@60": metric([2950.5, None]), "n_star@80": metric([None, None])},
            ntk=inf,
        ),
        record(method="cnn", metrics=curve(40), params={"channels": 25}),
        record(method=EVIL, metrics=curve(20), params={"note": '"><img src=x onerror=alert(2)>'}),
        record(method="v2only", version=2, metrics=curve(50)),
        record(method="broken", status="failed", error="ValueError: <b>NaN</b> loss at step 3"),
        record(method="cnn", dataset="lza", derived=True, metrics={"alpha@80": metric([0.1, 0.2])}),
        record(
            "forgetting",
            "mnist",
            "sgd",
            metrics={
                "ACC": metric([44.0, 45.0]),
                "BWT": metric([-0.5, -0.4]),
                "acc_matrix": {"per_seed": [matrix, matrix], "mean": matrix, "std": [[0.0] * 3] * 3},
            },
        ),
        record(
            "distillation",
            "fashion_mnist",
            "random",
            budget={"ipc": 1},
            metrics={"test_acc@convnet": metric([50.0, 52.0])},
        ),
        record(
            "distillation",
            "fashion_mnist",
            "random",
            budget={"ipc": 10},
            metrics={"test_acc@convnet": metric([70.0, 71.0])},
        ),
        record(
            "adversarial",
            "mnist",
            "pgd-at",
            params={"eps": 0.3},
            metrics={"clean_acc": metric([98.5, 98.6]), "robust_acc": metric([88.0, 89.0])},
            flags=["possibly-unreliable: fgsm beats pgd"],
            reproduce={
                "name": "madry-pgd-at",
                "published": 88.5,
                "measured": 88.5,
                "tolerance": 2.0,
                "verdict": "pass",
                "source": "fra31/auto-attack README",
            },
        ),
        record("adversarial", "../evil <ds>", "standard", metrics={"clean_acc": metric([99.0, 99.1])}),
    ]


def write_results(root: Path, recs=None) -> Path:
    for rec in recs if recs is not None else records():
        write_json_atomic(result_path(root, rec["task"], rec["dataset"], rec["method"], rec["config_hash"]), rec)
    bad = root / "sample_complexity" / "mnist1d" / "mlp" / "truncated.json"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_text('{"schema": "ntkbench.resu')
    return root


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("lb")
    # ranking mechanics on small synthetic records (reduced budgets): rank them all
    index = build_site(write_results(tmp / "results"), tmp / "site", rank_reduced=True)
    assert index == tmp / "site" / "index.html"
    return index.parent


def read(site: Path, name: str) -> str:
    return (site / name).read_text(encoding="utf-8")


def test_pages_and_twins_exist(site):
    for stem in (
        "sample_complexity--mnist1d",
        "sample_complexity--lza",
        "forgetting--mnist",
        "distillation--fashion_mnist",
        "adversarial--mnist",
    ):
        for ext in ("html", "csv", "md"):
            assert (site / f"{stem}.{ext}").is_file(), f"{stem}.{ext}"
    index = read(site, "index.html")
    assert 'href="sample_complexity--mnist1d.html"' in index
    assert "2026-11-27T23:44:34+00:00" in index  # last run


def test_file_names_are_sanitised(site):
    names = [p.name for p in site.iterdir()]
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", n) for n in names), names
    assert all(p.parent == site for p in site.rglob("*"))
    assert safe_name("../evil <ds>") != safe_name("___evil__ds_") and "/" not in safe_name("a/b")
    evil_page = next(n for n in names if n.startswith("adversarial--") and "evil" in n and n.endswith(".html"))
    assert f'href="{evil_page}"' in read(site, "index.html")
    assert "../evil &lt;ds&gt;" in read(site, evil_page)


def test_task_versions_get_separate_tables(site):
    page = read(site, "sample_complexity--mnist1d.html")
    sections = {s.split("</h2>")[0]: s for s in page.split("<h2>")[1:]}
    v1, v2 = sections["sample_complexity task_version 1"], sections["sample_complexity task_version 2"]
    assert "v2only" in v2 and "v2only" not in v1
    # our mlp run is in version 1 only; the newest version's ranked table also lists, apart, the
    # published numbers for mlp on MNIST-1D (not runs: class "published")
    runs_of_v2 = re.sub(r'<tbody class="published">.*?</tbody>', "", v2, flags=re.S)
    assert ">mlp<" in v1 and ">mlp<" not in runs_of_v2 and ">mlp<" in v2
    md = read(site, "sample_complexity--mnist1d.md")
    assert "## sample_complexity task_version 1" in md and "## sample_complexity task_version 2" in md
    csv = pd.read_csv(site / "sample_complexity--mnist1d.csv")
    assert set(csv["task_version"]) == {1, 2}
    assert csv.loc[csv["method"] == "v2only", "table"].item() == "sample_complexity task_version 2"
    mlp = csv[csv["method"] == "mlp"].iloc[0]
    # metric([30, 31]): the sample std (ddof=1) since result schema 2
    assert mlp["test_acc@n=250 mean"] == pytest.approx(30.5) and mlp["test_acc@n=250 std"] == pytest.approx(0.5**0.5)


def test_hostile_strings_are_escaped(site):
    for name in [p.name for p in site.glob("*.html")]:
        page = read(site, name)
        assert EVIL not in page and "<img" not in page and "<b>NaN" not in page, name
        assert page.count("<script") == 1, name  # only the sorter
    page = read(site, "sample_complexity--mnist1d.html")
    assert EVIL_ESCAPED in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in page
    md = read(site, "sample_complexity--mnist1d.md")
    assert EVIL not in md and EVIL_ESCAPED in md


class _Checker(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in ("meta", "br", "circle", "rect", "line", "polyline", "polygon", "input"):
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in ("circle", "rect"):
            return
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()


def test_pages_are_well_formed_and_svgs_parse(site):
    for p in site.glob("*.html"):
        c = _Checker()
        c.feed(p.read_text(encoding="utf-8"))
        assert not c.stack, (p.name, c.stack)
        assert not any(k.startswith("on") for _, attrs in c.tags for k in attrs), p.name
        for svg in re.findall(r"<svg.*?</svg>", p.read_text(encoding="utf-8"), flags=re.DOTALL):
            ET.fromstring(svg)


def test_rows_show_status_provenance_and_published(site):
    page = read(site, "sample_complexity--mnist1d.html")
    assert "ValueError: &lt;b&gt;NaN&lt;/b&gt; loss at step 3" in page  # failed run with its error
    assert "30.50 ± 0.71" in page and "&gt; 4000" in page  # n* not reached: "> n_max", with the grid's n_max
    assert "<details>" in page and "threefry2x32" in page and "c1e5222+dirty" in page and "15.6" in page
    adv = read(site, "adversarial--mnist.html")
    assert "published 88.50 vs measured 88.50" in adv and 'class="badge good"' in adv
    assert "possibly-unreliable: fgsm beats pgd" in adv and 'class="badge warn"' in adv
    lza = read(site, "sample_complexity--lza.html")
    assert "Derived results" in lza and "alpha@80" in lza


def test_plots(site):
    page = read(site, "sample_complexity--mnist1d.html")
    assert page.count('<svg class="chart"') == 2  # one per task version
    assert "stroke-dasharray" in page and "mlp ∞" in page  # infinite-width curve beside the finite one
    assert 'class="chart heat"' in read(site, "forgetting--mnist.html")
    assert "images per class" in read(site, "distillation--fashion_mnist.html")
    assert "robust accuracy vs eps" in read(site, "adversarial--mnist.html")


def test_unreadable_file_is_flagged_not_fatal(site):
    index = read(site, "index.html")
    assert "truncated.json" in index and 'class="note"' in index


def test_empty_or_missing_results_dir(tmp_path):
    assert "No results" in build_site(tmp_path / "nothing", tmp_path / "out").read_text()


def test_cli(tmp_path, capsys):
    from ntkbench.cli import main

    write_results(tmp_path / "r", [record()])
    assert main(["leaderboard", "--results", str(tmp_path / "r"), "--out", str(tmp_path / "o")]) == 0
    assert (tmp_path / "o" / "sample_complexity--mnist1d.html").is_file()


def test_odd_records_are_flagged_not_fatal(tmp_path):
    edited = record(method="edited")
    edited["params"] = {"width": 999}  # config changed after the run: the hash no longer matches
    odd = record(method="odd", metrics={"acc": "n/a", "x": {"mean": [1, 2], "per_seed": [], "std": None}})
    odd.update(provenance="?", ntk=["?"], reproduce=[{"verdict": "fail"}, "junk"], flags="one flag")
    write_results(tmp_path / "r", [edited, odd])
    (tmp_path / "r" / "list.json").write_text("[1, 2]")
    site = build_site(tmp_path / "r", tmp_path / "s").parent
    index, page = read(site, "index.html"), read(site, "sample_complexity--mnist1d.html")
    assert "list.json: not a result record" in index and "config_hash" in index
    assert "⚠ invalid" in page and "edited" in page and "odd" in page and 'class="badge bad"' in page


# -- the preview codec (tasks/distillation/preview.py) and its PNG (leaderboard/png.py) -----------

COMMITTED = Path(__file__).resolve().parents[1] / "results" / "distillation"


def test_preview_codec_reproduces_committed_previews_bit_for_bit():
    import json

    import numpy as np

    from ntkbench.tasks.distillation.preview import decode_preview, encode_preview

    files = sorted(COMMITTED.rglob("*.json"))
    assert files, f"no committed distillation results under {COMMITTED}"
    for f in files:
        stored = json.loads(f.read_text(encoding="utf-8"))["synthetic_preview"]
        p = decode_preview(stored)
        assert p is not None, f
        again = encode_preview(np.stack(p.values()), p.labels(), 10)
        assert json.dumps(again, sort_keys=True) == json.dumps(stored, sort_keys=True), f


def test_preview_decoder_refuses_malformed_previews():
    import base64

    from ntkbench.leaderboard.png import png_bytes
    from ntkbench.tasks.distillation.preview import decode_preview

    good = {
        "format": "uint8-base64",
        "shape": [2, 2, 1],
        "classes": [3],
        "lo": [0.0],
        "hi": [1.0],
        "images": [base64.b64encode(bytes([0, 64, 128, 255])).decode()],
    }
    p = decode_preview(good)
    assert p is not None and p.classes == (3,) and p.images[0].shape == (2, 2, 1)
    assert png_bytes(p.images[0], 2) == png_bytes(p.images[0], 2) and png_bytes(p.images[0]).startswith(b"\x89PNG")
    for bad in (
        {**good, "format": "png"},
        {**good, "shape": [2, 2, True]},
        {**good, "shape": [4096, 4096]},
        {**good, "images": ["!!!"]},
        {**good, "images": [base64.b64encode(b"abc").decode()]},
        {**good, "images": []},
        "junk",
        None,
    ):
        assert decode_preview(bad) is None, bad
    assert decode_preview({**good, "lo": ["x"], "classes": "?"}).lo == (0.0,)


# -- templates, CSP and charts --------------------------------------------------------------------


def test_csp_hash_matches_the_inlined_script(site):
    import base64
    import hashlib

    for p in site.glob("*.html"):
        page = p.read_text(encoding="utf-8")
        (script,) = re.findall(r"<script>(.*?)</script>", page, flags=re.DOTALL)
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page).group(1)
        assert f"script-src &#x27;sha256-{digest}&#x27;" in csp, p.name
        assert "default-src &#x27;none&#x27;" in csp, p.name


def test_figures_are_data_and_svg_is_self_contained(site):
    from ntkbench.charts import Chart
    from ntkbench.leaderboard import figures

    charts = figures("forgetting", [r for r in records() if r["task"] == "forgetting"])
    assert [type(c) for c in charts] == [Chart] and charts[0].kind == "heatmap"
    assert charts[0].heatmap.values[1] == (40.0, 91.0, 9.0)
    (line,) = figures("sample_complexity", [r for r in records() if r["task_version"] == 1])
    assert line.log_x and {s.label for s in line.series if s.dashed} == {"mlp ∞"}
    for p in site.glob("*.html"):
        for svg in re.findall(r"<svg.*?</svg>", p.read_text(encoding="utf-8"), flags=re.DOTALL):
            assert svg.startswith('<svg class="chart') and 'role="img"' in svg and "<title id=" in svg
            assert not re.search(r"<script|<foreignObject|@import|(?:href|src)=\"(?!#|data:)", svg), p.name


def test_svg_is_deterministic_and_ignores_rcparams():
    import matplotlib as mpl

    from ntkbench.charts import Chart, Series
    from ntkbench.leaderboard.plots import render

    chart = Chart(
        "t $x$ <b>",
        "x",
        "y",
        (
            Series("_hidden $a$ & <i>", ((1.0, 2.0, 0.5), (2.0, 3.0, None))),
            Series("ref", ((1.0, 2.5, None),), dashed=True),
        ),
    )
    a = render(chart)
    with mpl.rc_context({"lines.linewidth": 7, "font.size": 30, "svg.fonttype": "path", "svg.hashsalt": "x"}):
        b = render(chart)
    assert a == b and a.startswith("<svg") and "<?xml" not in a and "DOCTYPE" not in a
    assert "_hidden $a$ &amp; &lt;i&gt;" in a and "<b>" not in a and "<i>" not in a  # literal text, escaped
    assert render(Chart("empty", "x", "y")) == ""


def test_distillation_previews_are_drawn(tmp_path):
    import numpy as np

    from ntkbench.tasks.distillation.preview import encode_preview

    rng = np.random.default_rng(0)
    img = record(
        "distillation",
        "fashion_mnist",
        "kip",
        budget={"ipc": 1},
        metrics={"test_acc@convnet": metric([50.0])},
        synthetic_preview=encode_preview(rng.normal(size=(3, 4, 4, 1)), np.arange(3), 10),
    )
    sig = record(
        "distillation",
        "mnist1d",
        "kip",
        budget={"ipc": 1},
        metrics={"test_acc@convnet": metric([50.0])},
        synthetic_preview=encode_preview(rng.normal(size=(2, 40, 1)), np.arange(2), 10),
    )
    bad = record(
        "distillation",
        "mnist1d",
        "random",
        budget={"ipc": 1},
        metrics={"test_acc@convnet": metric([40.0])},
        synthetic_preview={"format": "uint8-base64", "shape": [2], "images": ["<script>"]},
    )
    site = build_site(write_results(tmp_path / "r", [img, sig, bad]), tmp_path / "s").parent
    page = read(site, "distillation--fashion_mnist.html")
    assert page.count('<img alt="class ') == 3 and page.count('src="data:image/png;base64,') == 3
    page = read(site, "distillation--mnist1d.html")
    assert "kip (reduced), ipc 1: first synthetic example per class" in page and "class 1</text>" in page
    assert "random, ipc 1: first synthetic" not in page and "&lt;script&gt;" not in page


# -- ranked tables, censored and thin data, the NTK views -----------------------------------------


def ranked_table(page: str, table_id: str = "r0") -> str:
    return re.search(rf'<table class="sortable ranked" id="{table_id}">.*?</table>', page, flags=re.S).group(0)


def ranked_methods(table: str) -> list[str]:
    # the label links to the method's page
    return [html_text(m) for m in re.findall(r'<td class="label"[^>]*>(?:<a [^>]*>)?([^<]*)', table)]


def html_text(s: str) -> str:
    import html

    return html.unescape(s).strip()


def test_sections_lead_with_a_compact_ranked_table(site):
    page = read(site, "sample_complexity--mnist1d.html")
    table = ranked_table(page)
    assert page.index('id="r0"') < page.index('id="t0"')  # ranked first, the full table below
    assert "Ranked by <b>test_acc@n=4000</b> (higher is better)" in table  # the largest n in all rows
    assert ranked_methods(table) == ["cnn", "mlp", EVIL, "broken"]  # the failed run unranked, last
    assert "<b>60.50 ± 0.71</b>" in table and ">—</td>" in table  # sample std (ddof=1)
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", table)
    assert heads == ["#", "method", "test_acc@n=4000 ↑", "seeds", "how known", "published"]  # no params/budget
    visible = re.sub(r'title="[^"]*"', "", table)
    assert "width=100" not in visible and "targets=" not in visible
    assert "Common to every run here — params: " in page and "budget: n=250…4000 (5), targets=60.0,80.0" in page
    adv = ranked_table(read(site, "adversarial--mnist.html"))
    assert "88.50</span>" in adv and 'class="badge good"' in adv  # the published number beside
    index = read(site, "index.html")
    # the pages table (the matrix above it links the same page from its column head)
    row = re.search(r"<tbody><tr><td><a href=\"sample_complexity--mnist1d.html\">.*?</tr>", index, flags=re.S).group(0)
    assert "<b>v2only</b>" in row and "70.50 ± 0.71" in row and "test_acc@n=4000 ↑" in row  # the newest version


def test_ranking_follows_the_metric_direction_and_labels_by_params(tmp_path):
    from ntkbench.charts import series_labels

    def derived(method, alpha, **kw):
        return record(method=method, dataset="lza", derived=True, metrics={"alpha@80": metric(alpha)}, **kw)

    recs = [
        derived("cnn", [2.0, 2.2]),
        derived("mlp", [0.5, 0.7], params={"width": 100}),
        derived("mlp", [1.0, 1.2], params={"width": 200}),
        record(method="a", metrics={"test_acc@n=1000": metric([50.0, 51.0]), "test_acc@n=4000": metric([70.0, 71.0])}),
        record(method="b", metrics={"test_acc@n=4000": metric([80.0, 81.0]), "test_acc@n=8000": metric([90.0, 91])}),
    ]
    site = build_site(write_results(tmp_path / "r", recs), tmp_path / "s", rank_reduced=True).parent
    lza = ranked_table(read(site, "sample_complexity--lza.html"))
    assert "alpha@80</b> (lower is better)" in lza
    assert ranked_methods(lza) == ["mlp (width 100)", "mlp (width 200)", "cnn"]  # lower first
    assert "<b>0.60 ± 0.14</b>" in lza  # sample std (ddof=1)
    mnist = ranked_table(read(site, "sample_complexity--mnist1d.html"))
    assert "Ranked by <b>test_acc@n=4000</b>" in mnist and ranked_methods(mnist) == ["b", "a"]
    assert series_labels(recs[:3]) == ["cnn", "mlp (width 100)", "mlp (width 200)"]
    twins = [
        record(method="m", params={"lr": 0.1}, budget={"n": [100], "targets": [60.0, 80.0]}),
        record(method="m", params={"lr": 0.1}),
    ]
    assert series_labels(twins) == ["m (n 100)", "m (n 250…4000)"]  # budget where the params do not differ
    for p in site.glob("*.html"):
        page = p.read_text(encoding="utf-8")
        shown = "".join(re.findall(r"<svg.*?</svg>|<table class=\"sortable ranked\".*?</table>", page, flags=re.S))
        assert not any(r["config_hash"][:6] in shown for r in recs), p.name  # never a hash


def test_reduced_budgets_are_listed_apart_with_their_deviations(tmp_path):
    """Only full-protocol runs are ranked; a reduced one is listed apart, with how it differs
    (computed from its budget, params and seeds); the index's best says when only reduced runs exist."""
    from ntkbench.tasks import TASKS

    task = TASKS.get("sample_complexity")
    protocol = {"budget": task.budget_defaults, "params": {"width": 100, "depth": 2, "ridge": 1e-4}, "seeds": 3}
    acc = {"test_acc@n=4000": metric([70.0, 71.0, 72.0])}
    full = record(method="ntk-mlp", metrics=acc, **protocol)
    few_seeds = record(method="nngp-mlp", metrics={"test_acc@n=4000": metric([90.0])}, **{**protocol, "seeds": 1})
    small = record(
        method="ntk-cnn", metrics={"test_acc@n=1000": metric([95.0, 95.0])}, budget={"n": [1000], "targets": [60.0]}
    )
    site = build_site(write_results(tmp_path / "r", [full, few_seeds, small]), tmp_path / "s").parent
    page = read(site, "sample_complexity--mnist1d.html")
    assert ranked_methods(ranked_table(page)) == ["ntk-mlp"]  # better numbers, but reduced: not ranked
    reduced = re.search(r'<table class="sortable ranked reduced" id="r0-reduced">.*?</table>', page, flags=re.S)
    assert reduced is not None and "Reduced budget — not ranked" in reduced.group(0)
    assert "seeds 1 of 3" in reduced.group(0)
    assert "n without 100, 200, 500, 2000, 4000" in reduced.group(0) and "targets without 80, 90" in reduced.group(0)
    assert "full protocol" in page  # the all-metrics table says it of the ranked run
    index = read(site, "index.html")
    assert "ntk-mlp" in index and "(reduced budget)" not in index
    only = build_site(write_results(tmp_path / "r2", [small]), tmp_path / "s2").parent
    assert "ntk-cnn (reduced budget)" in read(only, "index.html")
    ranked_all = build_site(tmp_path / "r", tmp_path / "s3", rank_reduced=True).parent
    assert ranked_methods(ranked_table(read(ranked_all, "sample_complexity--mnist1d.html")))[0] == "nngp-mlp"


def test_censored_n_star_one_seed_and_invalid_records(tmp_path):
    grid = [250, 500, 1000, 2000, 4000]
    good = record(
        method="mlp",
        metrics={
            **curve(30),
            "n_star@40": metric([250.0, 250.0]),  # reached at the smallest n: only "≤ 250" is known
            "n_star@99": metric([None, None]),  # never reached: "> 4000"
        },
        grid=grid,
    )
    one = record(method="ntk-mlp", metrics={"test_acc@n=4000": metric([64.9])}, seeds=1, budget={"n": [4000]})
    bad = record(method="tampered", metrics=curve(10))
    bad["params"] = {"width": 1}  # the config hash no longer matches: a validation problem
    site = build_site(write_results(tmp_path / "r", [good, one, bad]), tmp_path / "s", rank_reduced=True).parent
    page = read(site, "sample_complexity--mnist1d.html")
    assert "≤ 250" in page and "&gt; 4000" in page
    assert "64.90 (1 seed)" in page and "64.90 ± 0.00" not in page
    svg = "".join(re.findall(r"<svg.*?</svg>", page, flags=re.S))
    assert "mlp" in svg and "tampered" not in svg  # listed, marked, never plotted
    assert "⚠ invalid" in ranked_table(page) and "Not plotted (validation problems" in page
    assert ranked_methods(ranked_table(page))[-1].startswith("tampered")  # unranked


def test_single_x_line_charts_become_tables_and_scatter_renders():
    from ntkbench.charts import Chart, Series
    from ntkbench.leaderboard.pages import figure_view
    from ntkbench.leaderboard.plots import render

    one_x = Chart("acc vs eps", "eps", "acc (%)", (Series("a", ((0.1, 50.0, 1.0),)), Series("b", ((0.1, 60.0, 0.0),))))
    view = figure_view(one_x)
    assert view["svg"] == "" and view["table"]["rows"] == (("a", "50.00 ± 1.00"), ("b", "60.00"))
    scatter = Chart("s", "x", "y", (Series("a", ((1.0, 2.0, None), (3.0, 1.0, None))),), kind="scatter", caption="c")
    svg = render(scatter)
    assert svg.startswith('<svg class="chart"') and figure_view(scatter)["caption"] == "c"
    loglog = render(Chart("n*", "d", "n*", (Series("a", ((8.0, 80.0, None), (18.0, 450.0, None))),), True, log_y=True))
    assert "mathdefault" not in loglog and ">100<" in loglog.replace("</text>", "<")


@pytest.fixture(scope="module")
def committed(tmp_path_factory) -> Path:
    """The site of the committed results: the NTK views read their real `ntk` fields."""
    root = Path(__file__).resolve().parents[1] / "results"
    return build_site(root, tmp_path_factory.mktemp("committed"), rank_reduced=True).parent


def test_ntk_views_of_every_task(committed):
    forgetting = read(committed, "forgetting--fashion_mnist.html")
    assert "NTK view: predicted vs measured drop per task pair" in forgetting
    # Spearman ρ per predictor against the drop on the probe and on the test split, in a table
    rho = '<tr><td>{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td></tr>'
    assert rho.format("sgd", "logit residual", "0.45", "0.04") in forgetting
    assert rho.format("sgd", "softmax residual", "-0.02", "-0.24") in forgetting
    assert "No NTK view: ntk-krr (the method exposes no network" in forgetting
    distill = read(committed, "distillation--fashion_mnist.html")
    assert "NTK view: kernel (KRR) vs trained networks" in distill and "random real subset, ipc 10" in distill
    # KRR-NTK on KIP's synthetic set, full protocol at ipc 1 (every evaluation; 79.57 since its re-run)
    # beside the reduced ipc 10 run
    assert '<td>kip (evaluations convnet,mlp,krr), ipc 1: its set</td><td class="num">79.57</td>' in distill
    assert "<td>kip (evaluations krr), ipc 10 (reduced): its set</td>" in distill
    adv = read(committed, "adversarial--fashion_mnist.html")
    assert "NTK view: eigen-feature usefulness and robustness" in adv and "kernel distance" in adv
    assert "0.059 ± 0.014" in adv and "n/a: the predictor is not a Classifier" in adv  # pgd-at, 3 seeds
    assert "robust accuracy vs eps (worst case over attacks)" in adv
    sc = read(committed, "sample_complexity--mnist1d.html")
    assert "Dashed lines with open squares" in sc and "infinite width" in sc and "mlp (depth 2, steps 3000) ∞" in sc
    lza = read(committed, "sample_complexity--lza.html")
    assert "n* against input dimension d (log-log)" in lza and "mlp n*(75) α=2.14" in lza
    assert "mlp: α(75) = 2.14 ± 0.11" in lza and "mathdefault" not in lza  # sample std of the 3 seeds
    index = read(committed, "index.html")
    assert "<b>multitask</b>" in index and "86.52 ± 0.31" in index  # the full-protocol run (60k images per task)


def test_no_hash_in_any_legend_or_ranked_table(committed):
    import json

    root = Path(__file__).resolve().parents[1] / "results"
    hashes = {json.loads(p.read_text())["config_hash"][:6] for p in root.rglob("*.json")}
    for p in committed.glob("*.html"):
        page = p.read_text(encoding="utf-8")
        shown = "".join(re.findall(r"<svg.*?</svg>|<table class=\"sortable ranked\".*?</table>", page, flags=re.S))
        assert not any(h in shown for h in hashes), p.name


def test_committed_results_rank_only_full_protocol_runs(tmp_path):
    """By default, the committed Fashion-MNIST distillation page ranks the full-protocol runs (every
    evaluation, 3 seeds) and lists the KRR-only runs apart, each with its deviations."""
    import json

    root = Path(__file__).resolve().parents[1] / "results"
    full = {
        json.loads(p.read_text())["method"]
        for p in (root / "distillation" / "fashion_mnist").rglob("*.json")
        if json.loads(p.read_text()).get("protocol", {}).get("full")
    }
    assert full, "no full-protocol distillation result is committed"
    page = read(build_site(root, tmp_path / "s").parent, "distillation--fashion_mnist.html")
    assert sorted(ranked_methods(ranked_table(page))) == sorted(full)
    reduced = re.search(r'<table class="sortable ranked reduced".*?</table>', page, flags=re.S)
    assert reduced is not None and "evaluations [krr] of [convnet, mlp, krr]" in reduced.group(0)


# ---------------------------------------------------------------------------------------------
# A full disk, spreadsheet formulas, the workflow's permissions


class _FillsTheDisk:
    """A file whose first write stores half its data, then fails as a full disk does."""

    def __init__(self, f):
        self._f = f

    def write(self, data):
        self._f.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._f.__exit__(*exc)


def fill_the_disk(monkeypatch, folder: Path) -> None:
    """Every file opened for writing in `folder`, by name or by descriptor (os.fdopen, mkstemp),
    fails its first write halfway through. Both `io.open` (pathlib, os.fdopen) and `open`
    (pandas) are patched, so the test sees any way of writing a page."""
    real_open = io.open

    def open_on_a_full_disk(file, mode="r", *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        target = os.readlink(f"/proc/self/fd/{file}") if isinstance(file, int) else os.path.abspath(file)
        writing = any(c in mode for c in "wax+")
        return _FillsTheDisk(f) if writing and Path(target).parent == folder else f

    monkeypatch.setattr(io, "open", open_on_a_full_disk)
    monkeypatch.setattr(builtins, "open", open_on_a_full_disk)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to name a file by its descriptor")
def test_a_full_disk_leaves_the_previous_site_intact(tmp_path, monkeypatch):
    results = write_results(tmp_path / "results", [record(metrics=curve(30.0))])
    site = tmp_path / "site"
    build_site(results, site, rank_reduced=True)
    before = {p.name: p.read_bytes() for p in site.iterdir()}
    assert {"index.html", "sample_complexity--mnist1d.html", "sample_complexity--mnist1d.csv"} <= set(before)
    write_results(results, [record(method="newer", metrics=curve(40.0))])  # something new to write
    fill_the_disk(monkeypatch, site.resolve())
    with pytest.raises(OSError) as err:
        build_site(results, site, rank_reduced=True)
    monkeypatch.undo()
    assert err.value.errno == errno.ENOSPC
    # every page is the old one, whole; no half-written file or temporary file is left beside them
    assert {p.name: p.read_bytes() for p in site.iterdir()} == before


def test_csv_twins_defuse_spreadsheet_formulas_but_keep_numbers(tmp_path):
    formula = '=HYPERLINK("http://evil.example","click")'
    recs = [
        record(
            method=formula,
            method_version="+1+cmd|' /C calc'!A0",
            metrics={"test_acc@n=250": metric([-0.25, -0.75]), "@SUM(A1)": metric([1.0, 2.0])},
            status="failed",
            error="-2+3",
        ),
        record(method="mlp", metrics={"test_acc@n=250": metric([30.0, 31.0])}),
    ]
    build_site(write_results(tmp_path / "results", recs), tmp_path / "site", rank_reduced=True)
    with open(tmp_path / "site" / "sample_complexity--mnist1d.csv", newline="", encoding="utf-8") as f:
        header, *table = list(csv.reader(f))
    rows = {row[header.index("method")]: dict(zip(header, row, strict=True)) for row in table}
    # every text cell starting with = + - @ gets a leading quote, the header's metric names too
    assert "'" + formula in rows and rows["'" + formula]["error"] == "'-2+3"
    assert rows["'" + formula]["method_version"] == "'+1+cmd|' /C calc'!A0"
    assert "'@SUM(A1) mean" in header and "@SUM(A1) mean" not in header
    cells = [c for c in header + [c for row in table for c in row] if c[:1] in ("=", "+", "-", "@")]
    # what is left starting with a sign is a number, in a numeric column: still a number
    assert cells == ["-0.5"], cells
    assert float(rows["'" + formula]["test_acc@n=250 mean"]) == -0.5
    frame = pd.read_csv(tmp_path / "site" / "sample_complexity--mnist1d.csv")
    assert pd.api.types.is_float_dtype(frame["test_acc@n=250 mean"])


def test_only_the_deploy_job_may_publish():
    import yaml  # PyYAML: a dependency of flax

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "leaderboard.yml").read_text())
    # the build job runs a pull request's code: it gets the top level's read-only token
    assert workflow["permissions"] == {"contents": "read"}
    assert "permissions" not in workflow["jobs"]["build"]
    assert workflow["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
