"""The documentation describes this repository: the README's Layout tree, links and paths all resolve.

No ntkbench import (and so no JAX): the repository is read as files, `git ls-files` when git is
there, else a walk of the folder.
"""

import ast
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEXT_SUFFIXES = (".md", ".py", ".toml")
# Written in pieces so that this file does not match itself.
FOREIGN = ("shared" + "/", "PROTOCOLS" + ".md", "DESIGN" + ".md")
SKIP_DIRS = {".git", ".venv", "__pycache__", "build", ".pytest_cache", ".whl", "tmp", "shared"}


def tracked_files() -> list[str]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=30)
        files = [f for f in out.stdout.decode().split("\0") if f]
        if files:
            return files
    except (OSError, subprocess.SubprocessError):
        pass
    return [
        str(p.relative_to(ROOT))
        for p in ROOT.rglob("*")
        if p.is_file()
        and not SKIP_DIRS & set(p.relative_to(ROOT).parts[:-1])
        and not any(part.endswith(".egg-info") for part in p.relative_to(ROOT).parts)
    ]


def section(text: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"README.md has no '## {title}' section"
    return match.group(1)


def expand(name: str) -> list[str]:
    """`a/{x,y}.py` -> ['a/x.py', 'a/y.py'] (one brace group)."""
    match = re.fullmatch(r"(.*)\{([^}]*)\}(.*)", name)
    return [match.group(1) + alt + match.group(3) for alt in match.group(2).split(",")] if match else [name]


def layout_paths() -> list[str]:
    """Every path the Layout tree names: an entry's name is its first word; a name ending in `/` is a
    folder whose entries are the lines indented below it."""
    block = re.search(r"^```\n(.*?)^```", section((ROOT / "README.md").read_text(), "Layout"), re.M | re.S)
    assert block, "the Layout section has no ``` tree block"
    paths: list[str] = []
    stack: list[tuple[int, str]] = []  # (indent, folder path ending in /)
    for line in block.group(1).splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        assert not stack or indent > stack[-1][0]
        name = stack[-1][1] + line.split()[0] if stack else line.split()[0]
        paths += expand(name)
        if name.endswith("/"):
            stack.append((indent, name))
    return [p.rstrip("/") for p in paths]


def builtin_tasks() -> tuple[str, ...]:
    tree = ast.parse((ROOT / "ntkbench/tasks/__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "BUILTIN" for t in node.targets):
            return tuple(ast.literal_eval(node.value))
    raise AssertionError("ntkbench/tasks/__init__.py defines no BUILTIN")


def test_layout_paths_exist():
    missing = [p for p in layout_paths() if not (ROOT / p).exists()]
    assert not missing, f"README.md's Layout names paths that do not exist: {missing}"


def test_layout_covers_the_repository():
    named = set(layout_paths())
    files = tracked_files()
    top = {f.split("/")[0] for f in files if "/" in f}
    missing_top = top - {p.split("/")[0] for p in named}
    assert not missing_top, f"top-level folders missing from the Layout: {sorted(missing_top)}"

    subpackages = {
        f"ntkbench/{f.split('/')[1]}"
        for f in files
        if f.startswith("ntkbench/") and f.count("/") == 2 and f.endswith("/__init__.py")
    }
    assert subpackages and not subpackages - named, f"ntkbench subpackages missing: {sorted(subpackages - named)}"

    builtins = builtin_tasks()
    packages = {f.split("/")[2] for f in files if f.startswith("ntkbench/tasks/") and f.count("/") == 3}
    assert packages == set(builtins), f"task packages {sorted(packages)} vs BUILTIN {builtins}"
    for task in builtins:
        task_files = {f for f in files if f.startswith(f"ntkbench/tasks/{task}/")}
        assert task_files, task
        missing = sorted(task_files - named)
        assert not missing, f"files of ntkbench/tasks/{task}/ missing from the Layout: {missing}"


def test_no_references_outside_the_repository():
    hits = []
    for f in tracked_files():
        if f.endswith(TEXT_SUFFIXES) and (ROOT / f).is_file():
            for n, line in enumerate((ROOT / f).read_text(errors="replace").splitlines(), 1):
                hits += [f"{f}:{n}: {word}" for word in FOREIGN if word in line]
    assert not hits, "references to files outside the repository:\n" + "\n".join(hits)


def markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_relative_markdown_links_resolve():
    broken = []
    for md in markdown_files():
        text = re.sub(r"^```.*?^```", "", md.read_text(), flags=re.M | re.S)  # code is not links
        for target in re.findall(r"\[[^\]]*\]\(([^)\s]+)\)", text):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue  # a URL or an anchor in the same page
            if not (md.parent / target.split("#")[0]).exists():
                broken.append(f"{md.relative_to(ROOT)}: {target}")
    assert not broken, f"Markdown links to missing files: {broken}"


def test_quoted_repository_paths_exist():
    """`ntkbench/...`, `tests/...`, `docs/...` in backticks name real files (placeholders like <task> aside)."""
    tops = ("ntkbench/", "tests/", "docs/", "suites/", "examples/", "benchmarks/")
    missing = []
    for md in markdown_files():
        for quoted in re.findall(r"`([^`\s]+)`", md.read_text()):
            path = quoted.split(":")[0]  # `ntkbench/results.py: metric`
            if path.startswith(tops) and not re.search(r"[<>*{}]", path) and not (ROOT / path).exists():
                missing.append(f"{md.relative_to(ROOT)}: {quoted}")
    assert not missing, f"paths quoted in the docs that do not exist: {missing}"


def test_code_blocks_in_the_docs_parse():
    """The ```python and ```toml examples are valid code (the task example is run by test_task_plugin.py)."""
    import tomllib

    for md in markdown_files():
        for lang, code in re.findall(r"^```(python|toml)\n(.*?)^```", md.read_text(), re.M | re.S):
            where = f"{md.relative_to(ROOT)}: a ```{lang} block"
            if lang == "python":
                ast.parse(code, filename=where)
            else:
                tomllib.loads(code)
