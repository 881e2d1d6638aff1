"""`ntkbench compare A B`: two methods' result files, seed by seed.

Two results are comparable when they ran the same protocol on the same seeds: same task,
dataset, seeds, root seed and budget (`COMPARABLE_FIELDS`). Seed s of both then drew the same
data subsets and evaluation points, so for each metric both report the per-seed differences
B − A are paired, and a paired t-test over the seeds (`scipy.stats.ttest_rel`) says whether the
mean difference is distinguishable from zero. (`ntkbench run --reference` is another comparison:
the same configuration run twice, `orchestration/compare.py`.)
"""

from __future__ import annotations

import fnmatch
import math
import re
import warnings
from pathlib import Path
from typing import Any

from ntkbench.results import read_result

COMPARABLE_FIELDS = ("task", "dataset", "seeds", "root_seed", "budget")


class NotComparable(Exception):
    """Two results (or a path/pattern) that cannot be compared; the message is one line."""


def incomparable_field(a: dict, b: dict) -> str | None:
    """The first of `COMPARABLE_FIELDS` in which the two records differ, or None."""
    for field in COMPARABLE_FIELDS:
        if a.get(field) != b.get(field):
            return field
    return None


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        return None
    return float(v)


def _scalar_per_seed(m: Any) -> list | None:
    """A metric's per-seed list when its entries are numbers or None (not a matrix metric)."""
    if not isinstance(m, dict) or not isinstance(m.get("per_seed"), list):
        return None
    per_seed = m["per_seed"]
    if not all(v is None or _number(v) is not None for v in per_seed):
        return None
    return per_seed


def _natural(name: str) -> list:
    """Sort key: test_acc@n=250 before test_acc@n=1000."""
    return [int(t) if i % 2 else t for i, t in enumerate(re.split(r"(\d+)", name))]


def compare_pair(a: dict, b: dict) -> list[dict]:
    """One row per scalar metric both records report (sorted by name): per-seed differences B − A
    (None where either seed is missing), their mean over the paired seeds, the paired t statistic
    and p-value (None with fewer than 2 paired seeds, or with zero spread). Raises NotComparable."""
    field = incomparable_field(a, b)
    if field is not None:
        va, vb = a.get(field), b.get(field)
        if isinstance(va, dict) and isinstance(vb, dict):  # a budget: only the entries that differ
            keys = sorted(k for k in set(va) | set(vb) if va.get(k, "—") != vb.get(k, "—"))
            detail = "; ".join(f"{k}: {va.get(k, '—')!r} vs {vb.get(k, '—')!r}" for k in keys)
        else:
            detail = f"{va!r} vs {vb!r}"
        raise NotComparable(f"not comparable: field {field!r} differs ({detail})")
    for rec, name in ((a, "A"), (b, "B")):
        if rec.get("status") != "ok":
            error = str(rec.get("error") or "").splitlines()[:1]
            raise NotComparable(f"not comparable: {name} is a {rec.get('status')!r} run ({''.join(error)})")
    ma, mb = a.get("metrics") or {}, b.get("metrics") or {}
    rows = []
    for name in sorted(set(ma) & set(mb), key=_natural):
        sa, sb = _scalar_per_seed(ma[name]), _scalar_per_seed(mb[name])
        if sa is None or sb is None or len(sa) != len(sb):
            continue
        diffs = [None if x is None or y is None else float(y) - float(x) for x, y in zip(sa, sb)]
        paired = [(float(x), float(y)) for x, y in zip(sa, sb) if x is not None and y is not None]
        mean = sum(y - x for x, y in paired) / len(paired) if paired else None
        t, p = None, None
        if len(paired) >= 2:
            from scipy.stats import ttest_rel

            with warnings.catch_warnings():  # differences that do not vary: t is inf or nan, reported as n/a
                warnings.simplefilter("ignore", RuntimeWarning)
                res = ttest_rel([y for _, y in paired], [x for x, _ in paired])
            t, p = _number(float(res.statistic)), _number(float(res.pvalue))
        rows.append({"metric": name, "diffs": diffs, "mean": mean, "n": len(paired), "t": t, "p": p})
    return rows


def _fmt(v: float | None) -> str:
    return "—" if v is None else f"{v:+.4g}"


def format_rows(rows: list[dict]) -> list[str]:
    out = []
    for r in rows:
        per_seed = ", ".join(_fmt(d) for d in r["diffs"])
        if r["n"] < 2:
            test = "paired t-test n/a (< 2 paired seeds)"
        elif r["t"] is None:
            test = f"paired t-test n/a (the {r['n']} differences do not vary)"
        else:
            test = f"paired t({r['n'] - 1}) = {r['t']:.3g}, p = {r['p']:.3g}"
        out.append(f"{r['metric']}: B − A per seed [{per_seed}], mean {_fmt(r['mean'])}; {test}")
    return out


def resolve(arg: str, results: Path) -> tuple[Path, dict]:
    """A result file, or one `task/dataset/method` glob matching exactly one (non-derived) result
    file under `results`."""
    path = Path(arg)
    if path.is_file():
        return path, read_result(path)
    parts = arg.split("/")
    if len(parts) != 3:
        raise NotComparable(f"{arg}: not a result file nor a task/dataset/method pattern")
    found = sorted(
        p
        for p in Path(results).glob("*/*/*/*.json")
        if not p.name.startswith(".")
        and all(fnmatch.fnmatchcase(v, pat) for v, pat in zip(p.relative_to(results).parts[:3], parts))
    )
    if len(found) != 1:
        listed = ", ".join(str(p.relative_to(results)) for p in found[:4]) + (" …" if len(found) > 4 else "")
        what = f"{len(found)} result files under {results} ({listed}); name one file" if found else ""
        raise NotComparable(f"{arg}: {what or f'no result file under {results}'}")
    return found[0], read_result(found[0])


def compare_main(a: str, b: str, results: Path) -> tuple[int, list[str]]:
    """(exit status, lines): 0 and the table, or 2 and one line saying why not."""
    try:
        (pa, ra), (pb, rb) = resolve(a, results), resolve(b, results)
        rows = compare_pair(ra, rb)
    except NotComparable as e:
        return 2, [str(e)]
    except (OSError, ValueError) as e:
        return 2, [f"cannot read a result file: {e}"]
    head = [
        f"A: {pa} ({ra.get('method')})",
        f"B: {pb} ({rb.get('method')})",
        f"{ra.get('task')}/{ra.get('dataset')}, {ra.get('seeds')} seeds (root seed {ra.get('root_seed')})",
    ]
    return 0, head + (format_rows(rows) or ["no metric in common"])
