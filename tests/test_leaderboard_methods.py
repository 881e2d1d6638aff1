"""Method pages, the index's methods x datasets matrix, and rows read from several result folders
(reference and submissions, each row saying how it is known)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_leaderboard import EVIL, EVIL_ESCAPED, ROOT, curve, html_text, metric, record, write_results

from ntkbench.leaderboard import build_site, load_many
from ntkbench.leaderboard.sources import method_href, result_dirs
from ntkbench.results import result_path, write_json_atomic
from ntkbench.tasks import TASKS


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("lb-methods")
    # ranking mechanics on small synthetic records (reduced budgets): rank them all
    return build_site(write_results(tmp / "results"), tmp / "site", rank_reduced=True).parent


def test_every_method_has_a_page_linked_from_every_row(site):
    page = (site / "sample_complexity--mnist1d.html").read_text()
    for method in ("mlp", "cnn", EVIL, "v2only", "broken"):
        href = method_href(method)
        assert (site / href).is_file(), href
        # the ranked table's label and the full table's method cell both link to it
        assert page.count(f'href="{href}"') >= 2, method
    assert re.fullmatch(r"method--[A-Za-z0-9._-]+\.html", method_href(EVIL))
    for path in site.glob("*.html"):  # every link of every page resolves to a page of the site
        for href in re.findall(r'href="([^"#:]+)"', path.read_text()):  # not data: URIs
            assert (site / href).is_file(), (path.name, href)


def test_method_page_lists_every_run_with_its_rank_and_how_it_is_known(site):
    page = (site / method_href("cnn")).read_text()
    assert '<h2 id="sample_complexity">sample_complexity</h2>' in page
    assert 'href="sample_complexity--mnist1d.html"' in page and 'href="sample_complexity--lza.html"' in page
    assert "reference (run here)" in page
    # cnn (test_acc@n=4000 = 60.5) beats mlp (50.5) and the hostile name (40.5) in version 1
    assert "#1 of 3 · 60.50 ± 0.71" in page
    # what the method is, from the installed registry (the test's cnn is ntkbench's own)
    assert "source hash" in page and "package" in page
    # its NTK view in numbers: the infinite-width curve of the mlp run at its largest n
    assert "<div>ntk.infinite.test_acc@n=4000 = 72.00</div>" in (site / method_href("mlp")).read_text()
    evil = (site / method_href(EVIL)).read_text()
    assert EVIL not in evil and EVIL_ESCAPED in evil
    assert "Not installed here" in evil  # a method this machine lacks says so


def matrix_cells(index: str, task: str) -> dict[str, list[str]]:
    table = index.split(f'id="matrix-{task}"')[1].split("</table>")[0]
    rows = re.findall(r"<tr><td><a [^>]*>([^<]*)</a></td>(.*?)</tr>", table)
    return {html_text(m): [html_text(c) for c in re.findall(r"<td[^>]*>([^<]*)</td>", cells)] for m, cells in rows}


def test_index_matrix_says_who_is_best_where_reduced_marked(tmp_path):
    task = TASKS.get("sample_complexity")
    protocol = {"budget": task.budget_defaults, "params": {"width": 100, "depth": 2, "ridge": 1e-4}, "seeds": 3}
    acc = lambda v: {"test_acc@n=4000": metric([v, v + 1, v + 2])}  # noqa: E731
    recs = [
        record(method="ntk-mlp", metrics=acc(70.0), **protocol),
        record(method="nngp-mlp", metrics=acc(80.0), **protocol),
        record(method="ntk-mlp", dataset="mnist1d-shuffled", metrics=acc(60.0), **protocol),
        record(method="nngp-mlp", dataset="mnist1d-shuffled", metrics=acc(90.0), **{**protocol, "seeds": 1}),
    ]
    index = build_site(write_results(tmp_path / "results", recs), tmp_path / "site").read_text()
    assert "Who is best where" in index
    cells = matrix_cells(index, "sample_complexity")
    # columns: mnist1d, mnist1d-shuffled; the shuffled nngp-mlp run (1 seed of 3) is reduced: not ranked
    assert cells["nngp-mlp"][0] == "#1 of 2 · 81.00 ± 1.00" and cells["ntk-mlp"][0] == "#2 of 2 · 71.00 ± 1.00"
    assert cells["ntk-mlp"][1] == "#1 of 1 · 61.00 ± 1.00"
    assert cells["nngp-mlp"][1].startswith("reduced · ")
    assert 'class="reduced"' in index and 'class="best"' in index


def write_submission(root: Path, name: str, recs: list[dict], runs: list[dict] | None) -> Path:
    folder = root / "submissions" / name
    for rec in recs:
        write_json_atomic(
            result_path(folder / "results", rec["task"], rec["dataset"], rec["method"], rec["config_hash"]), rec
        )
    if runs is not None:
        (folder / "verification.json").write_text(json.dumps({"submission": name, "runs": runs}))
    return folder / "results"


def test_submissions_beside_the_results_are_read_and_say_how_they_are_known(tmp_path):
    results = write_results(tmp_path / "results", [record(method="mlp", metrics=curve(30))])
    ok = record(method="mine", metrics=curve(50), params={"width": 7})
    skipped = record(method="mine", metrics=curve(20), params={"width": 3})
    wrong = record(method="mine", metrics=curve(90), params={"width": 9})
    rel = lambda rec: result_path(Path(), rec["task"], rec["dataset"], rec["method"], rec["config_hash"]).as_posix()  # noqa: E731
    mismatch = {"metric": "test_acc@n=100", "claimed": 90.0, "measured": 40.0}
    runs = [
        {"path": rel(ok), "status": "verified identical"},
        {"path": rel(skipped), "status": "not re-run", "why": "over the time budget"},
        {"path": rel(wrong), "status": "mismatch", "mismatches": [mismatch]},
    ]
    sub = write_submission(tmp_path, "acme", [ok, skipped, wrong], runs)
    other = write_submission(tmp_path, "nover", [record(method="theirs", metrics=curve(10))], None)
    assert result_dirs(results) == [results, sub, other]
    assert result_dirs([results, sub], discover=False) == [results, sub]
    records, notes = load_many([results])
    assert not [r for r in records if r["params"].get("width") == 9]  # a mismatch never reaches the board
    assert [n for n in notes if "kept off the board: submitted by acme: mismatch (test_acc@n=100 claimed 90.0" in n]
    known = {(r["method"], r["params"].get("width")): r["_known"]["text"] for r in records}
    assert known == {
        ("mlp", 100): "reference (run here)",
        ("mine", 7): "submitted by acme: verified identical",
        ("mine", 3): "submitted by acme: not re-run (over the time budget)",
        ("theirs", 100): "submitted by nover: not verified (no verification.json)",
    }
    assert {r["_path"].split("sample_complexity/")[0] for r in records} == {
        "",
        "submissions/acme/results/",
        "submissions/nover/results/",
    }
    page = (build_site(results, tmp_path / "site").parent / "sample_complexity--mnist1d.html").read_text()
    assert "submitted by acme: verified identical" in page and "reference (run here)" in page
    assert (tmp_path / "site" / method_href("mine")).is_file()
    alone = build_site(results, tmp_path / "alone", submissions=False).parent
    assert "mine" not in (alone / "sample_complexity--mnist1d.html").read_text()


# ---- published numbers as reference rows ---------------------------------------------------------


def published_rows(page: str) -> list[tuple[str, str]]:
    """(label, value) of the published reference rows of the page's first ranked table."""
    table = re.search(r'<table class="sortable ranked" id="r0">.*?</table>', page, flags=re.S).group(0)
    rows = re.findall(
        r'<tbody class="published"><tr>.*?<a [^>]*>([^<]*)</a>.*?<td class="num"[^>]*>([^<]*)</td>', table
    )
    return [(html_text(a), html_text(b)) for a, b in rows]


def test_published_numbers_are_reference_rows_of_the_committed_pages(tmp_path):
    """The committed Fashion-MNIST distillation and MNIST-1D sample-complexity results: every
    published number for them is a row of the ranked table, marked, unranked, in the twin."""
    import shutil

    for part in ("distillation/fashion_mnist", "sample_complexity/mnist1d"):
        shutil.copytree(ROOT / "results" / part, tmp_path / "results" / part)
    site = build_site(tmp_path / "results", tmp_path / "site").parent
    page = (site / "distillation--fashion_mnist.html").read_text()
    rows = published_rows(page)
    # labels name what differs: DC's loops per ipc, DSA's evaluation (distillation/published.py)
    assert ("dc (ipc 1, outer_loop 1, inner_loop 1)", "70.50") in rows and (
        "dsa (ipc 1, augment dsa, eval_epochs 1000)",
        "70.60",
    ) in rows
    assert len(rows) == 6  # DC and DSA at ipc 1, 10, 50
    assert "VICO-UoE/DatasetCondensation README" in page
    assert page.count('<td class="num" data-sort="">—</td>') >= 6  # no rank
    md = (site / "distillation--fashion_mnist.md").read_text()
    assert (
        "Published numbers (not runs of ours, not ranked)" in md
        and "| dsa (ipc 1, augment dsa, eval_epochs 1000) | test_acc@convnet | 70.60 |" in md
    )
    assert (site / method_href("dsa")).is_file() and "70.60" in (site / method_href("dsa")).read_text()
    sc = published_rows((site / "sample_complexity--mnist1d.html").read_text())
    assert sc == [("cnn", "94.00"), ("mlp", "68.00"), ("mlp (depth 0)", "32.00")]
    # beside our own run of the same method, too
    assert "different protocol" in (site / "sample_complexity--mnist1d.html").read_text()


def test_published_rows_do_not_shift_the_ranking(tmp_path):
    recs = [
        record(
            "distillation",
            "fashion_mnist",
            "random",
            budget={"ipc": 1},
            metrics={"test_acc@convnet": metric([50.0, 52.0])},
        ),
        record("forgetting", "fashion_mnist", "sgd", metrics={"ACC": metric([44.0, 45.0])}),
    ]
    site = build_site(write_results(tmp_path / "results", recs), tmp_path / "site", rank_reduced=True).parent
    page = (site / "distillation--fashion_mnist.html").read_text()
    assert re.search(r'<tbody class="rank best"><tr><td class="num" data-sort="1">1</td>', page)
    assert "Shaded, in italics: published numbers, not runs of ours, not ranked" in page
    assert published_rows(page)[0] == ("dc (ipc 1, outer_loop 1, inner_loop 1)", "70.50")
    # a task and dataset without published numbers has no reference rows
    assert 'class="published"' not in (site / "forgetting--fashion_mnist.html").read_text()  # (MNIST only)


# ---- training dynamics: a headline that separates methods -----------------------------------------


def test_training_dynamics_ranks_by_steps_to_the_target_spearman_kept_as_a_column(tmp_path):
    """spearman_speed is 1.00 for both methods on Fashion-MNIST: steps to the highest target both
    reached tell them apart (mlp-gd 206 steps to 70%, cnn-gd 307); on lza-18 no run reached 70 or
    80%, so the target is 60%, where cnn-gd is faster."""
    import shutil

    for part in ("training_dynamics/fashion_mnist", "training_dynamics/lza-18"):
        shutil.copytree(ROOT / "results" / part, tmp_path / "results" / part)
    site = build_site(tmp_path / "results", tmp_path / "site").parent
    page = (site / "training_dynamics--fashion_mnist.html").read_text()
    assert "Headline: <b>steps_to@70</b> (lower is better)" in page
    reduced = re.search(r'id="r0-reduced">.*?</table>', page, flags=re.S).group(0)
    assert [m.split(" ")[0] for m in re.findall(r'<td class="label"[^>]*><a [^>]*>([^<]*)', reduced)] == [
        "mlp-gd",
        "cnn-gd",
    ]
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", re.search(r'id="t0".*?</thead>', page, flags=re.S).group(0))
    assert "spearman_speed ↑" in heads and "steps_to@70 ↓" in heads
    # and beside the headline in the ranked table: 1.00 for both, which is why it is not the headline
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", reduced.split("</thead>")[0])
    assert heads[2:4] == ["steps_to@70 ↓", "spearman_speed ↑"]
    assert reduced.count(">1.00 ± 0.00</td>") == 2
    lza = (site / "training_dynamics--lza-18.html").read_text()
    reduced = re.search(r'id="r0-reduced">.*?</table>', lza, flags=re.S).group(0)
    assert "Headline: <b>steps_to@60</b>" in lza
    assert [m.split(" ")[0] for m in re.findall(r'<td class="label"[^>]*><a [^>]*>([^<]*)', reduced)] == [
        "cnn-gd",
        "mlp-gd",
    ]


def test_index_shows_the_claims_verdicts_of_the_pages_it_has(tmp_path):
    """A claim is tested on the reference results at build time; the index lists the claims about
    its pages (verdict, statistic, interval), each linked to its page."""
    import shutil

    shutil.copytree(ROOT / "results" / "sample_complexity" / "mnist1d", tmp_path / "results/sample_complexity/mnist1d")
    index = build_site(tmp_path / "results", tmp_path / "site").read_text()
    table = re.search(r'id="claims-table">.*?</table>', index, flags=re.S).group(0)
    (row,) = [r for r in table.split("<tbody>") if "<b>cnn-fewer-examples-mnist1d</b>" in r]
    assert 'class="badge good">supported<' in row and 'href="sample_complexity--mnist1d.html"' in row
    assert "fashion-mnist" not in table  # no page for it on this board: not listed
