"""Was a result made by the same method code as the installed one, up to what cannot change a number?

A result records `method_source`, the hash of its method's module text. An edit to a docstring, a
comment or a parameter's type annotation (which the registry reads only to refuse bad input) changes
that text but not one computed value, and should not make every committed result of the module
"stale". Where the result's recorded `git_commit` is in this checkout's history, the module as it
was at that commit (its text hash must be the recorded one: that is the code that ran) is compared
with today's, both as Python syntax trees without docstrings and function annotations.
"""

from __future__ import annotations

import ast
import hashlib
import subprocess
import sys
from pathlib import Path


def behaviour(source: str) -> str:
    """The module's syntax tree without docstrings or function annotations (comments and layout are
    not in the tree): two sources with equal `behaviour` compute the same."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                node.body = node.body[1:] or [ast.Pass()]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            node.returns = None
            args = node.args
            for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
                if a is not None:
                    a.annotation = None
    return ast.dump(tree)


def text_hash(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()[:16]  # as `ntkbench.registry.source_hash`


def unchanged_since(record: dict, module: str) -> bool:
    """True where the module that made `record` (at its recorded git commit, with the recorded text
    hash) differs from the installed `module` only in docstrings, comments and annotations."""
    commit = str((record.get("provenance") or {}).get("git_commit") or "")
    mod = sys.modules.get(module)
    path = Path(getattr(mod, "__file__", "") or "")
    if not commit or commit.endswith("+dirty") or not path.is_file():
        return False  # no commit, or uncommitted code: what ran is not known
    try:
        top = subprocess.run(
            ["git", "-C", str(path.parent), "rev-parse", "--show-toplevel"], capture_output=True, text=True, timeout=10
        )
        if top.returncode:
            return False
        rel = path.resolve().relative_to(Path(top.stdout.strip()).resolve())
        then = subprocess.run(
            ["git", "-C", top.stdout.strip(), "show", f"{commit}:{rel.as_posix()}"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, ValueError, subprocess.SubprocessError):
        return False
    if then.returncode or text_hash(then.stdout) != record.get("method_source"):
        return False  # not in this history, or not the code the result says ran
    try:
        return behaviour(then.stdout) == behaviour(path.read_text(encoding="utf-8"))
    except (SyntaxError, OSError, ValueError):
        return False
