"""`ntkbench run --reference DIR`: fresh result files against reference ones, paired by path."""

import json

from ntkbench.orchestration.compare import compare_dirs


def _write(root, rel, metrics, status="ok"):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"status": status, "metrics": metrics}))


def test_compare_names_each_verdict(tmp_path, capsys):
    runs, ref = tmp_path / "runs", tmp_path / "ref"
    acc = {"test_acc@n=100": {"mean": 70.0, "std": 1.0, "per_seed": [69.0, 71.0]}}
    _write(runs, "t/d/same/a.json", acc)
    _write(ref, "t/d/same/a.json", acc)
    _write(runs, "t/d/close/b.json", {"test_acc@n=100": {"mean": 70.2, "std": 1.0}})
    _write(ref, "t/d/close/b.json", {"test_acc@n=100": {"mean": 70.0, "std": 1.0}})
    _write(runs, "t/d/moved/c.json", {"test_acc@n=100": {"mean": 75.0}, "n_star@60": {"mean": None}})
    _write(ref, "t/d/moved/c.json", {"test_acc@n=100": {"mean": 70.0}, "n_star@60": {"mean": None}})
    _write(runs, "t/d/fresh/d.json", acc)
    counts = compare_dirs(runs, ref)
    out = capsys.readouterr().out
    assert "t/d/same" in out and "identical" in out
    assert "t/d/close                                        within tolerance" in out
    assert "t/d/moved                                        differs: test_acc@n=100" in out
    assert "new (no reference)" in out
    assert "1 differs, 1 identical, 1 new, 1 within tolerance" in out
    assert counts == {"identical": 1, "within tolerance": 1, "differs": 1, "new": 1}
