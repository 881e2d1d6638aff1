"""Which result folders a board reads, and how each row is known.

    result_dirs(["results"])  # -> [results, submissions/a/results, submissions/b/results, ...]

`results/` holds the reference runs (run here). A folder `submissions/<name>/results` holds a
submission's claimed runs; its `verification.json` (written by `ntkbench verify`) says, per result
file, whether it was re-run and matched ("verified identical" / "verified within tolerance"), did
not match ("mismatch"), or was not re-run (and why).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

__all__ = ["how_known", "method_href", "result_dirs", "safe_name", "submission_name", "verification_runs"]


def safe_name(s: str) -> str:
    """A file-name part with only [A-Za-z0-9._-]; a short hash keeps sanitised names apart."""
    s = str(s)
    clean = re.sub(r"[^A-Za-z0-9._-]", "_", s).strip(".") or "_"
    if clean != s:
        clean = f"{clean[:60]}-{hashlib.sha256(s.encode()).hexdigest()[:8]}"
    return clean


def method_href(method: object) -> str:
    """The file of a method's page (one page per method name, over all tasks)."""
    return f"method--{safe_name(str(method))}.html"


REFERENCE = {"text": "reference (run here)", "kind": "good"}


def result_dirs(dirs, *, discover: bool = True) -> list[Path]:
    """The folders to read: `dirs` (one path or several), then, where `discover`, every
    `submissions/*/results` beside the first of them; each folder once, in that order."""
    given = [Path(dirs)] if isinstance(dirs, (str, Path)) else [Path(d) for d in dirs]
    found = list(given)
    if discover and given:
        subs = given[0].resolve().parent / "submissions"
        found += sorted(p for p in subs.glob("*/results") if p.is_dir()) if subs.is_dir() else []
    out: list[Path] = []
    seen: set[Path] = set()
    for d in found:
        if d.resolve() not in seen:
            seen.add(d.resolve())
            out.append(d)
    return out


def submission_name(results_dir: Path) -> str | None:
    """The submission a results folder belongs to (`submissions/<name>/results`, or a folder beside
    a `submission.toml`); None for a reference folder."""
    folder = Path(results_dir).resolve().parent
    if folder.parent.name == "submissions" or (folder / "submission.toml").is_file():
        return folder.name
    return None


def verification_runs(results_dir: Path) -> tuple[dict[str, dict], str | None]:
    """({result path relative to the results folder: its verification entry}, problem or None)
    from the `verification.json` beside the submission's results folder."""
    path = Path(results_dir).parent / "verification.json"
    if not path.is_file():
        return {}, "no verification.json"
    try:
        data = json.loads(path.read_text())
        runs = data.get("runs") if isinstance(data, dict) else None
        if not isinstance(runs, list):
            return {}, "verification.json has no runs list"
        return {str(r["path"]): r for r in runs if isinstance(r, dict) and isinstance(r.get("path"), str)}, None
    except (OSError, ValueError) as e:
        return {}, f"unreadable verification.json ({type(e).__name__})"


def how_known(submission: str | None, rel_path: str, runs: dict[str, dict], problem: str | None) -> dict:
    """{"text", "kind"}: how one row is known. A reference row is run here; a submitted row is
    "verified identical", "verified within tolerance", "mismatch (…)" or "not re-run (why)"."""
    if submission is None:
        return dict(REFERENCE)
    prefix = f"submitted by {submission}: "
    if problem is not None:
        return {"text": prefix + f"not verified ({problem})", "kind": "neutral"}
    run = runs.get(rel_path)
    if run is None:
        return {"text": prefix + "not re-run (not in verification.json)", "kind": "neutral"}
    status = str(run.get("status") or "")
    why = str(run.get("why") or "").strip()
    if status.startswith("verified"):
        return {"text": prefix + status, "kind": "good"}
    if status == "mismatch":
        parts = [
            f"{m.get('metric')} claimed {m.get('claimed')} vs measured {m.get('measured')}"
            for m in run.get("mismatches") or []
            if isinstance(m, dict)
        ]
        return {"text": prefix + "mismatch" + (f" ({'; '.join(parts) or why})" if parts or why else ""), "kind": "bad"}
    return {"text": prefix + (status or "not re-run") + (f" ({why})" if why else ""), "kind": "neutral"}
