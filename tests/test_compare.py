"""`ntkbench run --reference DIR`: fresh result files against reference ones, paired by path."""

import json

from ntkbench.orchestration.compare import compare_dirs, stack_difference
from ntkbench.provenance import cpu_info, provenance


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


AVX512 = """processor\t: 0
model name\t: Intel(R) Xeon(R) Processor
flags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512bw avx512vl
"""
AVX2 = "model name\t: AMD EPYC\nflags\t\t: fpu sse4_2 avx avx2 fma\n"
NEON = "processor\t: 0\nFeatures\t: fp asimd evtstrm\nCPU part\t: 0xd0c\n"


def test_provenance_records_the_cpu_model_and_its_vector_isa():
    assert cpu_info(AVX512) == {
        "model": "Intel(R) Xeon(R) Processor",
        "isa": "avx512",
        "flags": ["avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl"],
    }
    assert cpu_info(AVX2)["isa"] == "avx2" and cpu_info(NEON)["isa"] == "neon"
    assert set(provenance("t", 0.0, 0.0, devices=False)) >= {"cpu", "xla_flags"}


def test_a_result_that_is_not_identical_says_what_differs_in_its_stack(tmp_path, capsys):
    runs, ref = tmp_path / "runs", tmp_path / "ref"
    here = {"cpu": cpu_info(AVX512), "versions": {"jax": "0.10.2"}, "device": "cpu:cpu x1", "xla_flags": None}
    there = {**here, "cpu": cpu_info(AVX2)}
    for root, prov, mean in ((runs, here, 70.2), (ref, there, 70.0)):
        path = root / "t/d/m/a.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({"status": "ok", "metrics": {"acc": {"mean": mean}}, "provenance": prov}))
    compare_dirs(runs, ref)
    assert "within tolerance (different CPU ISA: avx512 vs avx2)" in capsys.readouterr().out
    newer = {**there, "cpu": cpu_info(AVX512), "versions": {"jax": "0.12.0"}}
    assert stack_difference({"provenance": here}, {"provenance": newer}) == "different versions: jax 0.10.2 vs 0.12.0"
    assert stack_difference({"provenance": here}, {}) == "the reference records no CPU"
