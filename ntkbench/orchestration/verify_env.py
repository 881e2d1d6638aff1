"""The fresh environment `ntkbench verify` re-runs a submission in: a venv that sees the project's
locked environment (a `.pth` file), with the submission's pinned package pip-installed into it
alone (`--no-deps`: its dependencies are the project's, never the submitter's choice)."""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# The source root of the ntkbench being run, the folder holding the `ntkbench` package (an editable
# install's finder is not a `.pth` path entry that a `.pth` line could reach, so it is listed itself).
SOURCE_ROOT = Path(__file__).resolve().parents[2]


class VerifyRefused(Exception):
    """A submission that cannot be installed or whose code is not the code of its results (exit 2);
    the message is one line."""


# Every command in the venv runs with the venv as its working directory: `python -c` and `-m` put
# the working directory first on sys.path, where a stray package must not stand in for ntkbench.


def clean_env() -> dict[str, str]:
    """This process's environment without PYTHONPATH: the venv sees what its `.pth` lists, nothing
    a caller happened to put on the path."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def _one_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.lower().startswith("error")]
    return (errors or lines or ["no output"])[-1]


def install(requirement: str, venv: Path) -> tuple[str, float]:
    """Create `venv`, make the project's environment visible in it and pip-install `requirement`
    there; (its python, seconds taken). VerifyRefused when pip cannot install it."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True)
    python = str(venv / "bin" / "python")
    venv_site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True, env=clean_env(), cwd=venv,
    ).stdout.strip()  # fmt: skip
    # Appended after the venv's own site-packages: the submission's package wins over nothing of
    # the project's, since --no-deps installs that package alone.
    project_paths = [str(SOURCE_ROOT), *site.getsitepackages()]
    Path(venv_site, "_ntkbench_project.pth").write_text("\n".join(project_paths) + "\n")
    check = subprocess.run(
        [python, "-c", "import ntkbench, jax"], capture_output=True, text=True, env=clean_env(), cwd=venv
    )
    if check.returncode:
        raise VerifyRefused(f"the verification venv cannot import ntkbench and jax: {_one_line(check.stderr)}")
    # This environment's pip installs into the venv (--python). --ignore-installed: the project's
    # environment is visible, and a copy of the package there must not stand in for the pinned one.
    # --no-build-isolation: a package built from source (a git commit) builds with the project's
    # setuptools, offline.
    pip = [sys.executable, "-m", "pip", "--python", python, "--disable-pip-version-check", "install", "-q"]
    pip += ["--no-deps", "--ignore-installed", "--no-build-isolation", requirement]
    proc = subprocess.run(pip, capture_output=True, text=True, env=clean_env(), cwd=venv)
    if proc.returncode:
        raise VerifyRefused(f"cannot install {requirement!r}: {_one_line(proc.stderr or proc.stdout)}")
    return python, time.perf_counter() - start


HASHES_SCRIPT = """
import json, sys
from ntkbench.registry import PluginError, get_method, plugin_load_errors
out = {}
for task, name in json.loads(sys.argv[1]):
    try:
        out[task + "/" + name] = get_method(name, task).source_hash
    except (PluginError, KeyError) as e:
        out[task + "/" + name] = "not registered (" + str(e).splitlines()[0] + ")"
print(json.dumps({"hashes": out, "errors": plugin_load_errors()}))
"""


def installed_source_hashes(python: str, pairs: list[tuple[str, str]]) -> dict[str, str | None]:
    """{task/method: the source hash of the method the venv's registry loads}."""
    proc = subprocess.run(
        [python, "-c", HASHES_SCRIPT, json.dumps(pairs)],
        capture_output=True,
        text=True,
        env=clean_env(),
        cwd=Path(python).parent.parent,  # the venv
    )
    if proc.returncode:
        raise VerifyRefused(f"the installed package's methods cannot be listed: {_one_line(proc.stderr)}")
    return json.loads(proc.stdout.strip().splitlines()[-1])["hashes"]


def check_source_hashes(python: str, claims: Sequence[Any]) -> None:
    """Every claim's `method_source` must be the installed method's source hash: the code the
    venv runs is the code that made the numbers. VerifyRefused naming the method and both hashes."""
    pairs = sorted({(str(c.record.get("task")), c.method) for c in claims})
    installed = installed_source_hashes(python, pairs)
    for c in claims:
        key = f"{c.record.get('task')}/{c.method}"
        recorded = c.record.get("method_source")
        if recorded != installed.get(key):
            raise VerifyRefused(
                f"method {c.method!r} ({c.record.get('task')}): {c.path} records method_source {recorded}, "
                f"the installed package's code hashes to {installed.get(key)}"
            )
