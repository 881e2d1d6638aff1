"""`ntkbench reproduce --claims`: each task's claims (`Task.claims`) tested on the result files.

Every call reads the result files afresh (default `results/`) and recomputes the verdict; nothing
is stored, so a claim follows the results. For each claim the evaluator picks the result files
(the fullest protocol: full before reduced, then most seeds, then the finest grid; two methods
only from the same budget, up to the claim's `ignore` fields), takes the metric's per-seed values,
and computes the claim's statistic with a 95 % interval (`ntkbench.tasks.claims` defines them):

- supported: the interval excludes 0 on the side the claim names;
- contradicted: it excludes 0 on the other side;
- inconclusive: it contains 0, or a side has fewer than `min_seeds` seeds, or a result is
  missing, or a value is censored (a target never reached, an n* at the grid's floor: censored
  values are never averaged; the reason says which).

`evaluate_claims(results_dir)` is what a page calls; `print_claims` is the listing.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import scipy.stats

from ntkbench.registry import Registry
from ntkbench.results import read_result
from ntkbench.tasks import all_tasks
from ntkbench.tasks.claims import Claim

Record = dict[str, Any]
Z95 = float(scipy.stats.norm.ppf(0.975))


@dataclasses.dataclass(frozen=True)
class ClaimResult:
    claim: Claim
    verdict: str  # "supported" | "contradicted" | "inconclusive"
    reason: str  # why inconclusive ("" otherwise)
    statistic: str  # what was computed, in words
    estimate: float | None  # the statistic (a difference, a mean ρ, a ρ)
    effect: float | None  # Cohen's d (d_z when paired), or the mean / sd; None where undefined
    effect_name: str
    interval: tuple[float, float] | None  # 95 %
    n: tuple[int, ...]  # seeds per side
    files: tuple[str, ...]


def all_claims() -> list[Claim]:
    """Every task's claims (a name used twice is an error naming both tasks)."""
    claims: Registry[str, Claim] = Registry("claim", error=ValueError)
    for task in all_tasks():
        for claim in getattr(task, "claims", ()):  # a third-party task may predate claims
            claims.add(claim.name, claim, describe=lambda c: f"task {c.task!r}")
    return claims.values()


# --- reading the result files -------------------------------------------------------------------


def _candidates(results_dir: Path, claim: Claim, method: str, metric: str) -> list[tuple[Path, Record]]:
    out = []
    for path in sorted((results_dir / claim.task / claim.dataset / method).glob("*.json")):
        try:
            record = read_result(path)
        except (OSError, ValueError):
            continue
        if record.get("status") != "ok":
            continue
        if metric and metric not in (record.get("metrics") or {}):
            continue
        out.append((path, record))
    return out


def _fullness(record: Record) -> tuple:
    """Sort key: the fullest protocol first (full, seeds, grid points, schema)."""
    return (
        bool((record.get("protocol") or {}).get("full")),
        int(record.get("seeds") or 0),
        len(record.get("grid") or []),
        str(record.get("schema") or ""),
    )


def _same_protocol(a: Record, b: Record, ignore: tuple[str, ...]) -> bool:
    strip = lambda r: {k: v for k, v in (r.get("budget") or {}).items() if k not in ignore}  # noqa: E731
    return strip(a) == strip(b) and a.get("dataset") == b.get("dataset")


def _paired(a: Record, b: Record) -> bool:
    """Seed s of both drew the same data (same seeds and root seed: `ntkbench compare`'s rule)."""
    return a.get("seeds") == b.get("seeds") and a.get("root_seed") == b.get("root_seed")


def _grid_floor(record: Record, metric: str) -> float | None:
    """The smallest n of a learning curve: an n* there means "≤ floor", not a value."""
    if not metric.startswith("n_star@"):
        return None
    grid = record.get("grid") or (record.get("budget") or {}).get("n") or []
    return float(min(grid)) if grid else None


def seed_values(record: Record, metric: str) -> tuple[list[float | None], int]:
    """The metric's per-seed values, None where censored, and how many are censored: a seed that
    never reached the target (null) or an n* at the grid's floor (schema 3's `censored` counts
    the same seeds)."""
    m = (record.get("metrics") or {}).get(metric)
    if not isinstance(m, dict):
        return [], 0
    per_seed = m.get("per_seed")
    values: list[Any] = list(per_seed) if isinstance(per_seed, list) else [m.get("mean")]
    floor = _grid_floor(record, metric)
    censoring: dict[str, Any] = c if isinstance(c := m.get("censored"), dict) else {}
    counted = isinstance(censoring.get("reached"), int)
    if m.get("mean") is None and not (counted and censoring["reached"] < censoring.get("of", 0)):
        return [None] * len(values), len(values)  # the mean itself is censored, no seed says which
    if counted and censoring.get("side") == "below" and censoring.get("bound") is not None:
        floor = float(censoring["bound"])  # schema 3 says where its floor is
    clean: list[float | None] = []
    for v in values:
        ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        clean.append(float(v) if ok and (floor is None or v > floor) else None)
    return clean, sum(v is None for v in clean)


def _censored_reason(method: str, values: list[float | None], censored: int, record: Record, metric: str) -> str:
    floor = _grid_floor(record, metric)
    where = f"not reached or ≤ {floor:g} (the grid's floor)" if floor is not None else "not reached"
    return f"censored: {censored} of {len(values)} seeds of {method} {metric} {where}"


# --- statistics ---------------------------------------------------------------------------------


def _t_interval(values: np.ndarray) -> tuple[float, float]:
    """One-sample t interval of the mean (a point when every seed agrees exactly)."""
    mean, sd = float(values.mean()), float(values.std(ddof=1))
    if sd == 0.0:
        return mean, mean
    ci = scipy.stats.ttest_1samp(values, 0.0).confidence_interval(0.95)
    return float(ci.low), float(ci.high)


def _ratio(mean: float, sd: float) -> float | None:
    if sd > 0:
        return mean / sd
    return None if mean == 0 else math.copysign(math.inf, mean)


def _difference(a: list[float], b: list[float], paired: bool) -> tuple[str, float, float | None, str, tuple]:
    va, vb = np.asarray(a), np.asarray(b)
    if paired:
        d = va - vb
        est, sd = float(d.mean()), float(d.std(ddof=1))
        return "paired t over seeds", est, _ratio(est, sd), "d_z", _t_interval(d)
    est = float(va.mean() - vb.mean())
    pooled = math.sqrt(((len(va) - 1) * va.var(ddof=1) + (len(vb) - 1) * vb.var(ddof=1)) / (len(va) + len(vb) - 2))
    if va.std(ddof=1) == 0 and vb.std(ddof=1) == 0:
        interval = (est, est)
    else:
        ci = scipy.stats.ttest_ind(va, vb, equal_var=False).confidence_interval(0.95)
        interval = (float(ci.low), float(ci.high))
    return "Welch's t over seeds", est, _ratio(est, pooled), "Cohen's d", interval


def _spearman(x: list[float], y: list[float]) -> float | None:
    rho = float(scipy.stats.spearmanr(x, y).statistic)
    return None if math.isnan(rho) else rho


def _verdict(claim: Claim, interval: tuple[float, float]) -> tuple[str, str]:
    lo, hi = interval
    if lo > 0 or hi < 0:
        positive = lo > 0
        return ("supported" if positive == (claim.direction == "greater") else "contradicted"), ""
    return "inconclusive", "the 95 % interval contains 0"


# --- one claim ----------------------------------------------------------------------------------


def _result(claim: Claim, **kw: Any) -> ClaimResult:
    base: dict[str, Any] = {
        "verdict": "inconclusive",
        "reason": "",
        "statistic": "",
        "estimate": None,
        "effect": None,
        "effect_name": "",
        "interval": None,
        "n": (),
        "files": (),
    }
    return ClaimResult(claim=claim, **{**base, **kw})


def _decide(claim: Claim, n: tuple[int, ...], interval: tuple[float, float] | None, **kw: Any) -> ClaimResult:
    if min(n, default=0) < claim.min_seeds:
        reason = f"too few seeds: {'/'.join(map(str, n))} (a claim needs ≥ {claim.min_seeds} a side)"
        return _result(claim, n=n, interval=interval, reason=reason, **kw)
    assert interval is not None
    verdict, reason = _verdict(claim, interval)
    return _result(claim, n=n, interval=interval, verdict=verdict, reason=reason, **kw)


def _evaluate_difference(claim: Claim, results_dir: Path) -> ClaimResult:
    sides = [_candidates(results_dir, claim, m, claim.metric) for m in claim.methods]
    pairs = [(pa, pb) for pa in sides[0] for pb in sides[1] if _same_protocol(pa[1], pb[1], claim.ignore)]
    if not pairs:
        missing = [m for m, s in zip(claim.methods, sides, strict=True) if not s]
        why = f"no results for {', '.join(missing)}" if missing else "no two results of the same budget"
        return _result(claim, reason=f"{why} ({claim.task}/{claim.dataset}, {claim.metric})")
    (path_a, rec_a), (path_b, rec_b) = max(
        pairs, key=lambda p: (min(_fullness(p[0][1]), _fullness(p[1][1])), _paired(p[0][1], p[1][1]))
    )
    files = (str(path_a), str(path_b))
    (va, ca), (vb, cb) = seed_values(rec_a, claim.metric), seed_values(rec_b, claim.metric)
    n = (len(va), len(vb))
    for method, values, censored, rec in ((claim.a, va, ca, rec_a), (claim.b, vb, cb, rec_b)):
        if censored:
            reason = _censored_reason(method, values, censored, rec, claim.metric)
            return _result(claim, n=n, files=files, reason=reason, statistic=f"{claim.metric} {claim.a} − {claim.b}")
    paired = _paired(rec_a, rec_b)
    if min(n) < 2:
        est = float(np.mean(np.asarray(va, dtype=float)) - np.mean(np.asarray(vb, dtype=float)))
        return _decide(claim, n, None, files=files, estimate=est, statistic=f"{claim.metric} {claim.a} − {claim.b}")
    test, est, effect, effect_name, interval = _difference(va, vb, paired)  # type: ignore[arg-type]
    statistic = f"{claim.metric} {claim.a} − {claim.b}, {test}"
    return _decide(
        claim, n, interval, files=files, estimate=est, effect=effect, effect_name=effect_name, statistic=statistic
    )


def _single(claim: Claim, results_dir: Path, metric: str) -> tuple[Path, Record] | None:
    found = _candidates(results_dir, claim, claim.a, metric)
    return max(found, key=lambda c: _fullness(c[1])) if found else None


def _evaluate_mean(claim: Claim, results_dir: Path) -> ClaimResult:
    chosen = _single(claim, results_dir, claim.metric)
    if chosen is None:
        return _result(claim, reason=f"no results ({claim.task}/{claim.dataset}/{claim.a}, {claim.metric})")
    path, record = chosen
    values, censored = seed_values(record, claim.metric)
    statistic = f"mean {claim.metric} of {claim.a} over seeds, one-sample t"
    if censored:
        reason = _censored_reason(claim.a, values, censored, record, claim.metric)
        return _result(claim, n=(len(values),), files=(str(path),), reason=reason, statistic=statistic)
    v = np.asarray(values, dtype=float)
    sd = float(v.std(ddof=1)) if len(v) > 1 else 0.0
    interval = _t_interval(v) if len(v) > 1 else None
    effect = _ratio(float(v.mean()), sd) if len(v) > 1 else None
    return _decide(
        claim, (len(v),), interval, files=(str(path),), estimate=float(v.mean()), effect=effect,
        effect_name="mean/sd", statistic=statistic,
    )  # fmt: skip


def _evaluate_trend(claim: Claim, results_dir: Path) -> ClaimResult:
    metrics = [claim.metric.format(x=x) for x in claim.xs]
    chosen = _single(claim, results_dir, metrics[0])
    if chosen is None:
        return _result(claim, reason=f"no results ({claim.task}/{claim.dataset}/{claim.a}, {claim.metric})")
    path, record = chosen
    present = [(x, m) for x, m in zip(claim.xs, metrics, strict=True) if m in record["metrics"]]
    columns = [seed_values(record, m)[0] for _, m in present]
    seeds = min(len(c) for c in columns)
    statistic = f"Spearman ρ of {claim.metric} against x ∈ {[x for x, _ in present]} per seed, mean over seeds, t"
    if len(present) < 3:
        return _result(
            claim, files=(str(path),), n=(seeds,), statistic=statistic, reason=f"only {len(present)} x values"
        )
    # A target never reached (None) ranks after every reached one: an order, never an average.
    rhos = []
    for s in range(seeds):
        ys = [math.inf if c[s] is None else c[s] for c in columns]
        rho = _spearman([x for x, _ in present], ys)  # type: ignore[arg-type]
        if rho is None:
            return _result(
                claim, files=(str(path),), n=(seeds,), statistic=statistic, reason=f"ρ undefined at seed {s}"
            )
        rhos.append(rho)
    v = np.asarray(rhos)
    interval = _t_interval(v) if seeds > 1 else None
    return _decide(
        claim, (seeds,), interval, files=(str(path),), estimate=float(v.mean()), effect=float(v.mean()),
        effect_name="mean ρ", statistic=statistic,
    )  # fmt: skip


def _evaluate_pairs(claim: Claim, results_dir: Path) -> ClaimResult:
    chosen = _single(claim, results_dir, "")
    rows: Any = None if chosen is None else chosen[1].get("ntk")
    for key in claim.rows.split("."):
        rows = rows.get(key) if isinstance(rows, dict) else None
    if chosen is None or not isinstance(rows, list) or not rows:
        return _result(claim, reason=f"no NTK view ({claim.task}/{claim.dataset}/{claim.a}, ntk.{claim.rows})")
    path, _ = chosen
    finite = lambda v: isinstance(v, int | float) and math.isfinite(v)  # noqa: E731
    xy = [(r[claim.x], r[claim.y]) for r in rows if finite(r.get(claim.x)) and finite(r.get(claim.y))]
    # The views run once, on the first seed (`ntkbench/tasks/forgetting/ntk.py`) or on the root
    # seed's draw (`ntkbench/tasks/adversarial/ntk.py`): one network or kernel, one seed.
    seeds = len({r.get("seed", 0) for r in rows})
    statistic = f"Spearman ρ({claim.x}, {claim.y}) over {len(xy)} rows of ntk.{claim.rows}, Fisher interval"
    if len(xy) < 4:
        return _result(claim, files=(str(path),), n=(seeds,), statistic=statistic, reason=f"{len(xy)} pairs")
    rho = _spearman([p[0] for p in xy], [p[1] for p in xy])
    if rho is None:
        return _result(claim, files=(str(path),), n=(seeds,), statistic=statistic, reason="ρ undefined")
    # Fisher's z with the Fieller-Hartley-Pearson variance for Spearman's ρ, 1.06 / (n − 3).
    z, half = math.atanh(max(min(rho, 0.999999), -0.999999)), Z95 * math.sqrt(1.06 / (len(xy) - 3))
    interval = (math.tanh(z - half), math.tanh(z + half))
    return _decide(
        claim, (seeds,), interval, files=(str(path),), estimate=rho, effect=rho, effect_name="ρ",
        statistic=statistic,
    )  # fmt: skip


EVALUATORS = {
    "difference": _evaluate_difference,
    "mean": _evaluate_mean,
    "trend": _evaluate_trend,
    "pairs": _evaluate_pairs,
}


def evaluate(claim: Claim, results_dir: Path | str = "results") -> ClaimResult:
    return EVALUATORS[claim.kind](claim, Path(results_dir))


def evaluate_claims(results_dir: Path | str = "results") -> list[ClaimResult]:
    """Every claim's verdict, recomputed from the result files under `results_dir`."""
    return [evaluate(c, results_dir) for c in all_claims()]


# --- printing -----------------------------------------------------------------------------------


def _num(v: float | None) -> str:
    if v is None:
        return "-"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"


def describe(r: ClaimResult) -> str:
    """One line: verdict, name, statistic, estimate, effect, interval, n, files, reason."""
    interval = "-" if r.interval is None else f"[{_num(r.interval[0])}, {_num(r.interval[1])}]"
    effect = f"{r.effect_name} {_num(r.effect)}" if r.effect_name else "effect -"
    why = f"  ({r.reason})" if r.reason else ""
    files = ", ".join(r.files) or "none"
    return (
        f"{r.verdict.upper():<13} {r.claim.name}: {r.statistic or r.claim.metric} = {_num(r.estimate)}, "
        f"{effect}, 95 % {interval}, n {'/'.join(map(str, r.n)) or '0'}{why}; files: {files}"
    )


def print_claims(results: list[ClaimResult], stream: TextIO | None = None) -> None:
    stream = sys.stdout if stream is None else stream
    counts: dict[str, int] = {}
    for r in results:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
        print(describe(r), file=stream)
    summary = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    print(f"\n{len(results)} claims: {summary}", file=stream)
