"""`ntkbench verify`: re-run a deterministic sample of a submission's runs and compare them with
what the submission claims.

1. Sample: a seed from the submission's content (every result file's path and bytes), the runs in
   a permutation of that seed, then, while the estimated time (recorded wall time + a fixed
   per-run overhead) fits the budget, one run of each method, then more runs. The submitter picks
   nothing: editing a file to steer the sample changes the seed, and so the whole sample.
2. Install (`verify_env`): the pinned package into a fresh venv beside the project's environment;
   the source hash of each method there must be the one its results record.
3. Re-run each sampled run with that venv's python through `ntkbench run --only RUN_ID` (worker
   processes under a time limit: a plugin that exits, crashes or hangs fails its own run).
4. Compare: bit-identical metrics are "verified identical"; on the same recorded stack nothing
   less will do; on another stack every mean within max(0.5, 3·std/√n) of the claim.

`verify_reference` does the same for the committed reference results (no install): `make
check-results` re-runs a sample of the quick suite's results.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from ntkbench.orchestration import submissions, verify_env
from ntkbench.orchestration.compare import stack_difference
from ntkbench.orchestration.verify_env import VerifyRefused
from ntkbench.results import write_json_atomic

# Seconds a run costs beyond its recorded wall time: the `ntkbench run` process and its worker
# each import JAX (~2 s each on 2 cores) and the run's data is loaded again; measured ~2-3 s with a
# warm compile cache, so 10 s leaves room for a cold one.
PER_RUN_OVERHEAD_SECONDS = 10.0
# A re-run may take this many times its recorded wall time (another machine, a cold compile
# cache), and never less than MIN_TIME_LIMIT_MIN, before its worker is stopped.
TIME_LIMIT_FACTOR = 3.0
MIN_TIME_LIMIT_MIN = 5.0
# Means on another stack: within max(ABS_TOLERANCE, SEM_FACTOR * std / sqrt(seeds)) of the claim.
ABS_TOLERANCE = 0.5
SEM_FACTOR = 3.0

Env = dict[str, str] | None  # a subprocess's environment (None: this one's)

IDENTICAL, WITHIN, MISMATCH, NOT_RERUN = "verified identical", "verified within tolerance", "mismatch", "not re-run"


@dataclasses.dataclass(frozen=True)
class Claim:
    """One result file of the submission: `path` relative to its results folder (posix)."""

    path: str
    record: dict

    @property
    def run_id(self) -> str:
        return self.path.removesuffix(".json")

    @property
    def method(self) -> str:
        return str(self.record.get("method"))

    @property
    def estimate_seconds(self) -> float:
        wall = (self.record.get("provenance") or {}).get("wall_seconds") or 0.0
        return float(wall) + PER_RUN_OVERHEAD_SECONDS


def result_files(results_dir: Path) -> list[Path]:
    return sorted(p for p in Path(results_dir).rglob("*.json") if not p.name.startswith("."))


def sample_seed(results_dir: Path) -> str:
    """sha256 over the sorted (relative path, bytes) of every result file: the same files give the
    same seed on every machine (paths in posix form, lengths framed so no two sets collide)."""
    h = hashlib.sha256()
    files = sorted((p.relative_to(results_dir).as_posix(), p) for p in result_files(results_dir))
    for rel, path in files:
        data = path.read_bytes()
        for part in (rel.encode(), data):
            h.update(len(part).to_bytes(8, "big"))
            h.update(part)
    return h.hexdigest()


def read_claims(results_dir: Path) -> list[Claim]:
    claims = []
    for path in result_files(results_dir):
        rel = path.relative_to(results_dir).as_posix()
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            raise VerifyRefused(f"{path}: not a readable result file ({e})") from None
        if not isinstance(record, dict):
            raise VerifyRefused(f"{path}: not a result record")
        claims.append(Claim(rel, record))
    return claims


def sample(
    claims: list[Claim], seed: str, budget_seconds: float, *, take_all: bool = False
) -> tuple[list[Claim], dict[str, str]]:
    """(the claims to re-run in the seed's order, {path: why not} for the others). One run of each
    method first (the first of its runs in the order that fits what is left of the budget), then
    any further run that still fits."""
    order = sorted(claims, key=lambda c: hashlib.sha256(f"{seed}/{c.path}".encode()).hexdigest())
    skipped = {c.path: why for c in order if (why := _not_rerunnable(c))}
    candidates = [c for c in order if c.path not in skipped]
    if take_all:
        return candidates, skipped
    chosen: list[Claim] = []
    left = budget_seconds
    covered: set[str] = set()
    for first_pass in (True, False):
        for c in candidates:
            if c in chosen or (first_pass and c.method in covered) or c.estimate_seconds > left:
                continue
            chosen.append(c)
            covered.add(c.method)
            left -= c.estimate_seconds
    minutes = budget_seconds / 60
    for c in candidates:
        if c not in chosen:
            need = c.estimate_seconds / 60
            skipped[c.path] = (
                f"needs ~{need:.1f} min, more than the {minutes:g} min budget"
                if c.estimate_seconds > budget_seconds
                else f"needs ~{need:.1f} min; the {minutes:g} min budget went to {len(chosen)} other runs"
            )
    return [c for c in order if c in chosen], skipped


def _not_rerunnable(claim: Claim) -> str | None:
    if claim.record.get("status") != "ok":
        return f"the claim's status is {claim.record.get('status')!r}, not 'ok'"
    if claim.record.get("derived"):
        return "derived from its source runs " + ", ".join(claim.record.get("source_runs") or [])
    return None


def _flat_pairs(mean: Any, std: Any) -> Iterator[tuple[Any, Any]]:
    """(mean, std) leaf pairs of a metric whose mean may be a (nested) list; std may be missing."""
    if isinstance(mean, list):
        stds = (
            std
            if isinstance(std, list) and len(std) == len(mean)
            else [std if not isinstance(std, list) else None] * len(mean)
        )
        for m, s in zip(mean, stds):
            yield from _flat_pairs(m, s)
    else:
        yield mean, std


def _flat(value: Any) -> list:
    return [x for v in value for x in _flat(v)] if isinstance(value, list) else [value]


def tolerance(std: Any, seeds: int) -> float:
    sd = float(std) if isinstance(std, int | float) else 0.0
    return max(ABS_TOLERANCE, SEM_FACTOR * sd / math.sqrt(max(seeds, 1)))


def compare_claim(rerun: dict, claim: dict) -> tuple[str, str, list[dict]]:
    """(status, why, mismatches) of a re-run against the claimed result of the same run."""
    if rerun.get("status") != "ok":
        return MISMATCH, f"the re-run failed: {rerun.get('error') or rerun.get('status')}", []
    measured, claimed = rerun.get("metrics") or {}, claim.get("metrics") or {}
    names = sorted(set(measured) | set(claimed))
    stack = stack_difference(rerun, claim)
    same = [(n, measured.get(n), claimed.get(n)) for n in names]
    # Not part of the stack (`verify` refuses a submission whose code moved), but the reference
    # results may predate an edit of a built-in method: say so beside the stack.
    code = ""
    if rerun.get("method_source") != claim.get("method_source"):
        code = f"; method code changed: method_source {claim.get('method_source')} -> {rerun.get('method_source')}"
    if all(_bits(m) == _bits(c) for _, m, c in same):
        return IDENTICAL, stack + code, []
    seeds = int(claim.get("seeds") or 1)
    mismatches = []
    largest = (0.0, "")  # the largest difference within tolerance, and its metric: what moved
    for name, m, c in same:
        if stack == "same recorded stack":
            m, c = m or {}, c or {}
            for part in ("mean", "per_seed"):  # the mean first: the number a reader compares
                if json.dumps(m.get(part)) != json.dumps(c.get(part)):
                    label = name if part == "mean" else f"{name} (per seed)"
                    mismatches.append(_mismatch(label, c.get(part), m.get(part), 0.0))
                    break
            continue
        m_mean, c_std = _flat((m or {}).get("mean")), (c or {}).get("std")
        pairs = list(_flat_pairs((c or {}).get("mean"), c_std))
        if len(pairs) != len(m_mean):
            mismatches.append(_mismatch(name, (c or {}).get("mean"), (m or {}).get("mean"), None))
            continue
        for (cm, cs), mm in zip(pairs, m_mean):
            tol = tolerance(cs, seeds)
            if cm is None and mm is None:
                continue
            if not (isinstance(cm, int | float) and isinstance(mm, int | float) and abs(cm - mm) <= tol):
                mismatches.append(_mismatch(name, cm, mm, tol))
            elif abs(cm - mm) > largest[0]:
                largest = (abs(cm - mm), name)
    if mismatches:
        why = "not bit-identical on the same recorded stack" if stack == "same recorded stack" else stack
        return MISMATCH, why + code, mismatches
    return WITHIN, f"{stack}{code}; largest |Δmean| {largest[0]:.3g} ({largest[1]})", []


def _bits(metric: dict | None) -> tuple:
    """What must be bit-identical: the per-seed values and the mean (floats compared exactly)."""
    metric = metric or {}
    return json.dumps(metric.get("per_seed")), json.dumps(metric.get("mean"))


def _mismatch(metric: str, claimed: Any, measured: Any, tol: float | None) -> dict:
    return {"metric": metric, "claimed": claimed, "measured": measured, "tolerance": tol}


def rerun_one(
    python: str, suites: list[Path], claim: Claim, out: Path, *, executor: str, data_dir: Path | None, env: Env
) -> dict:
    """Run `claim`'s run again with `python` into `out`; its result record, or a failed record
    carrying why when no result file came back (the worker's death is recorded by the runner)."""
    minutes = max(MIN_TIME_LIMIT_MIN, TIME_LIMIT_FACTOR * claim.estimate_seconds / 60)
    cmd = [python, "-m", "ntkbench.cli", "run", *map(str, suites), "--only", claim.run_id, "--out", str(out)]
    cmd += ["--executor", executor, "--time-limit", f"{minutes:.1f}"]
    if data_dir:
        cmd += ["--data-dir", str(Path(data_dir).resolve())]
    # A backstop above the runner's own time limit (the worker is stopped at `minutes`); a Slurm
    # queue may wait longer than any limit we could state, so none there.
    backstop = None if executor == "slurm" else minutes * 60 + 300
    try:
        # cwd: the temporary folder, never the caller's (`-m` puts it first on sys.path)
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=backstop, cwd=out.parent)
        tail = (proc.stderr.strip().splitlines() or proc.stdout.strip().splitlines() or [""])[-1]
    except subprocess.TimeoutExpired:
        tail = f"`ntkbench run` did not return within {backstop:.0f} s"
    path = out / claim.path
    if path.is_file():
        return json.loads(path.read_text())
    return {"status": "failed", "error": f"no result file came back ({tail or 'no output'})"}


def run_and_compare(
    python: str,
    suites: list[Path],
    picked: list[Claim],
    out: Path,
    *,
    executor: str,
    data_dir: Path | None,
    env: Env,
    stream: TextIO,
) -> tuple[list[dict], float, dict]:
    """Re-run and compare every picked claim, one line each; (run entries, seconds, verifier's stack)."""
    entries: list[dict] = []
    stack: dict = {}
    start = time.perf_counter()
    for claim in picked:
        rerun = rerun_one(python, suites, claim, out, executor=executor, data_dir=data_dir, env=env)
        stack = stack or _stack(rerun)
        status, why, mismatches = compare_claim(rerun, claim.record)
        entries.append({"path": claim.path, "status": status, "why": why, "mismatches": mismatches})
        print(f"{claim.path}: {status} ({why})", file=stream, flush=True)
        for m in mismatches:
            tol = "" if m["tolerance"] is None else f" (tolerance {m['tolerance']:g})"
            print(f"  {claim.path}: {m['metric']}: claimed {m['claimed']}, measured {m['measured']}{tol}", file=stream)
    return entries, time.perf_counter() - start, stack


def _stack(record: dict) -> dict:
    prov = record.get("provenance") or {}
    return {k: prov.get(k) for k in ("cpu", "versions", "device", "backend", "xla_flags", "python") if k in prov}


def _summary(entries: list[dict]) -> tuple[str, int]:
    counts: dict[str, int] = {}
    for e in entries:
        counts[e["status"]] = counts.get(e["status"], 0) + 1
    text = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    return text, 1 if counts.get(MISMATCH) else 0


def verify_submission(
    folder: Path,
    *,
    budget_minutes: float = 30.0,
    take_all: bool = False,
    executor: str = "local",
    allow_local: bool = False,
    data_dir: Path | None = None,
    stream: TextIO | None = None,
) -> int:
    """Exit status: 0 every re-run verified, 1 a mismatch; VerifyRefused / SubmissionError (exit 2)
    for a submission that cannot be read or installed."""
    stream = stream or sys.stdout
    sub = submissions.load_submission(Path(folder), allow_local=allow_local)
    claims = read_claims(sub.results_dir)
    if not claims:
        raise VerifyRefused(f"{sub.results_dir}: no result files")
    seed = sample_seed(sub.results_dir)
    picked, skipped = sample(claims, seed, budget_minutes * 60, take_all=take_all)
    with tempfile.TemporaryDirectory(prefix="ntkbench-verify-") as tmp:
        python, install_seconds = verify_env.install(sub.package, Path(tmp) / "venv")
        verify_env.check_source_hashes(python, claims)
        print(f"installed {sub.package} in {install_seconds:.1f} s; source hashes match", file=stream)
        entries, rerun_seconds, stack = run_and_compare(
            python, sub.suites, picked, Path(tmp) / "rerun", executor=executor, data_dir=data_dir,
            env=verify_env.clean_env(), stream=stream,
        )  # fmt: skip
    entries += [{"path": p, "status": NOT_RERUN, "why": why, "mismatches": []} for p, why in sorted(skipped.items())]
    for p, why in sorted(skipped.items()):
        print(f"{p}: {NOT_RERUN} ({why})", file=stream)
    report = {
        "submission": sub.name,
        "package": sub.package,
        "sample_seed": seed,
        "budget_minutes": None if take_all else budget_minutes,
        "install_seconds": round(install_seconds, 3),
        "rerun_seconds": round(rerun_seconds, 3),
        "stack": stack,
        "runs": sorted(entries, key=lambda e: e["path"]),
    }
    path = Path(folder) / "verification.json"
    write_json_atomic(path, report)
    text, status = _summary(entries)
    print(
        f"verify {sub.name}: {text}; install {install_seconds:.1f} s, {len(picked)} re-runs {rerun_seconds:.1f} s; "
        f"wrote {path}",
        file=stream,
    )
    return status


def verify_reference(
    results: Path,
    suite: Path,
    *,
    suite_name: str = "quick",
    budget_minutes: float = 3.0,
    data_dir: Path | None = None,
    stream: TextIO | None = None,
) -> int:
    """Re-run a sample of the committed reference results of `suite` (their `suite` field is
    `suite_name`) with this interpreter, and compare. Nothing is written into `results`."""
    stream = stream or sys.stdout
    results = Path(results)
    claims = [c for c in read_claims(results) if c.record.get("suite") == suite_name]
    if not claims:
        raise VerifyRefused(f"{results}: no results of suite {suite_name!r}")
    seed = sample_seed(results)
    picked, skipped = sample(claims, seed, budget_minutes * 60)
    with tempfile.TemporaryDirectory(prefix="ntkbench-verify-") as tmp:
        entries, seconds, _ = run_and_compare(
            sys.executable, [suite], picked, Path(tmp), executor="local", data_dir=data_dir, env=None, stream=stream
        )
    text, status = _summary(entries)
    print(
        f"verify {results} (suite {suite_name}, sample seed {seed[:12]}): {len(picked)} of {len(claims)} runs "
        f"re-run in {seconds:.1f} s: {text}; {len(skipped)} not re-run (budget {budget_minutes:g} min)",
        file=stream,
    )
    return status
