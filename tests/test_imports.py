"""Imports inside the package: no cycle, and a function-local import only where it is justified.

Pure AST (nothing here imports ntkbench, so no JAX): every import statement counts, at module
level and inside functions alike, and so does `importlib.import_module` (or `__import__`) of a
constant name; an import under `if TYPE_CHECKING:` does not (it never runs). Edge rule: `import
a.b` depends on module a.b; `from X import name` on module X.name when that is a module, else on
X. A non-constant `import_module` (the task registry's f-string, `_moved`'s aliases) cannot be
read statically and is not counted; import-linter (`make lint`) checks the layers on top of this.

A parent package runs before its submodules (`import ntkbench.tasks.base` first runs
`ntkbench/tasks/__init__.py`), so the implicit child-to-parent step is not an edge: Python
completes the parent before the child's own imports start, which makes it no cycle.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "ntkbench"

# Every function-local import of an ntkbench module, (importing module, function, imported
# module), with why it is not at module level. A new one must be added here with its reason;
# move it to the top of its module unless it breaks a cycle or costs start-up time that the
# module's other callers should not pay (measure: `python -X importtime -c 'import ntkbench.cli'`).
LOCAL_IMPORTS_ALLOWED = {
    ("ntkbench.cli", "cmd_leaderboard", "ntkbench.leaderboard"): (
        "start-up: the leaderboard imports matplotlib, pandas and jinja2, ~0.7 s on top of the ~0.85 s "
        "of `import ntkbench.cli` (-X importtime), which every other command would pay"
    ),
    ("ntkbench.cli", "leaderboard_diff", "ntkbench.leaderboard.diff"): "start-up: as cmd_leaderboard's",
    ("ntkbench.cli", "cmd_submit", "ntkbench.leaderboard.diff"): "start-up: as cmd_leaderboard's",
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the imported module
    function: str | None  # the enclosing function's qualified name; None at module level
    line: int


def module_names(package_dir: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py under `package_dir` (a package is its __init__)."""
    names = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The module `name` imports: itself, or its longest prefix that is a module."""
    parts = name.split(".")
    while parts:
        if ".".join(parts) in modules:
            return ".".join(parts)
        parts.pop()
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported_names(node: ast.AST, module: str, is_package: bool, modules: dict[str, Path]) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:  # relative: from the module's own package, one level up per extra dot
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        return [f"{source}.{a.name}" if f"{source}.{a.name}" in modules else source for a in node.names]
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if called in ("import_module", "__import__") and isinstance(node.args[0].value, str):
            return [node.args[0].value]
    return []


def package_imports(package_dir: Path) -> list[Import]:
    """Every import of one of the package's modules by another, module-level or in a function."""
    modules = module_names(package_dir)
    found = []
    for module, path in modules.items():
        is_package = path.name == "__init__.py"

        def visit(node: ast.AST, function: str | None, scope: str) -> None:
            if isinstance(node, ast.If) and _is_type_checking(node.test):
                for statement in node.orelse:  # the body runs only for a type checker
                    visit(statement, function, scope)
                return
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                scope = f"{scope}.{node.name}" if scope else node.name
                if not isinstance(node, ast.ClassDef):
                    function = scope
            for name in _imported_names(node, module, is_package, modules):
                target = _resolve(name, modules)
                if target is not None and target != module:
                    found.append(Import(module, target, function, getattr(node, "lineno", 0)))
            for child in ast.iter_child_nodes(node):
                visit(child, function, scope)

        visit(ast.parse(path.read_text(encoding="utf-8"), str(path)), None, "")
    return found


def cycles(imports: list[Import]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    graph: dict[str, set[str]] = {}
    for i in imports:
        graph.setdefault(i.module, set()).add(i.target)
        graph.setdefault(i.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return components


def test_no_import_cycle_in_the_package():
    imports = package_imports(PACKAGE)
    # the scan sees the package (a broken scan would find no cycle in nothing)
    assert len(module_names(PACKAGE)) > 100 and len(imports) > 300
    edges = {(i.module, i.target) for i in imports}
    assert ("ntkbench.cli", "ntkbench.orchestration.runner") in edges  # `from ntkbench.orchestration import runner`
    assert ("ntkbench.cli", "ntkbench.leaderboard") in edges  # function-local
    assert ("ntkbench.tasks.conformance", "ntkbench.tasks.base") not in edges  # under TYPE_CHECKING only
    assert cycles(imports) == []


def test_function_local_imports_are_the_allowed_ones():
    """A function-local import hides a dependency from the module's header (and from a reader);
    each one left is listed above with its reason."""
    local = {(i.module, i.function, i.target): i.line for i in package_imports(PACKAGE) if i.function}
    unlisted = {k: line for k, line in local.items() if k not in LOCAL_IMPORTS_ALLOWED}
    stale = set(LOCAL_IMPORTS_ALLOWED) - set(local)
    assert not unlisted, f"function-local imports not in LOCAL_IMPORTS_ALLOWED (move them up, or list why): {unlisted}"
    assert not stale, f"LOCAL_IMPORTS_ALLOWED lists imports that are gone: {stale}"
    assert all(reason.strip() for reason in LOCAL_IMPORTS_ALLOWED.values())


def test_the_scan_counts_function_level_imports_and_import_module_as_edges(tmp_path):
    """The cycle test's scanner on a small package: a cycle closed by a function-local import, and
    one closed by a constant `import_module`, are both found; TYPE_CHECKING imports are not edges."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg import b\n")
    (pkg / "b.py").write_text("def f():\n    from pkg.a import x\n")
    (pkg / "c.py").write_text("from . import d\n")
    (pkg / "d.py").write_text("import importlib\n\ndef g():\n    return importlib.import_module('pkg.c')\n")
    (pkg / "e.py").write_text("from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from pkg import f\n")
    (pkg / "f.py").write_text("import pkg.e\n")
    imports = package_imports(pkg)
    assert cycles(imports) == [["pkg.a", "pkg.b"], ["pkg.c", "pkg.d"]]
    local = {(i.module, i.function, i.target) for i in imports if i.function}
    assert local == {("pkg.b", "f", "pkg.a"), ("pkg.d", "g", "pkg.c")}
