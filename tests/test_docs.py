"""The documentation describes this repository: the README is one screen that links every page of
docs/, the Layout tree (docs/layout.md) matches the repository, links, anchors and quoted paths all
resolve, code blocks parse, and the README's method example runs.

No ntkbench import (and so no JAX) in this process: the repository is read as files, `git ls-files`
when git is there, else a walk of the folder; the README's example runs in a subprocess.
"""

import ast
import re
import subprocess
import sys
import textwrap
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


def expand(name: str) -> list[str]:
    """`a/{x,y}.py` -> ['a/x.py', 'a/y.py'] (one brace group)."""
    match = re.fullmatch(r"(.*)\{([^}]*)\}(.*)", name)
    return [match.group(1) + alt + match.group(3) for alt in match.group(2).split(",")] if match else [name]


def layout_paths() -> list[str]:
    """Every path the Layout tree (the first ``` block of docs/layout.md) names: an entry's name is its
    first word; a name ending in `/` is a folder whose entries are the lines indented below it."""
    block = re.search(r"^```\n(.*?)^```", (ROOT / "docs" / "layout.md").read_text(), re.M | re.S)
    assert block, "docs/layout.md has no ``` tree block"
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
    assert not missing, f"docs/layout.md names paths that do not exist: {missing}"


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


README_MAX_LINES = 90  # the front door: what ntkbench measures, two commands, a method, links


def prose(md: Path) -> str:
    """A page without its code blocks (a `# comment` in code is not a heading, `[x](y)` not a link)."""
    return re.sub(r"^```.*?^```", "", md.read_text(), flags=re.M | re.S)


def links(md: Path) -> list[str]:
    return re.findall(r"\[[^\]]*\]\(([^)\s]+)\)", prose(md))


def anchors(md: Path) -> set[str]:
    """GitHub's anchors of a page's headings: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#{1,6} (.+)$", prose(md), re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_relative_markdown_links_resolve():
    broken = []
    for md in markdown_files():
        for target in links(md):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue  # a URL
            path, _, anchor = target.partition("#")
            page = md.parent / path if path else md
            if not page.exists():
                broken.append(f"{md.relative_to(ROOT)}: {target}")
            elif anchor and page.suffix == ".md" and anchor not in anchors(page):
                broken.append(f"{md.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, f"Markdown links to missing files or headings: {broken}"


def test_readme_is_one_screen_that_links_every_docs_page():
    readme = ROOT / "README.md"
    lines = len(readme.read_text().splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines (at most {README_MAX_LINES}): move detail to docs/"
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in links(readme)}
    unlinked = [str(page.relative_to(ROOT)) for page in markdown_files()[1:] if page.resolve() not in linked]
    assert not unlinked, f"docs pages the README does not link: {unlinked}"


def test_readme_method_example_runs():
    """The README's ```python block is a real plugin: it registers, its `arch=` hook builds the
    architecture, and the method trains a network whose predictor returns finite logits."""
    (code,) = re.findall(r"^```python\n(.*?)^```", (ROOT / "README.md").read_text(), re.M | re.S)
    check = textwrap.dedent(
        """
        import sys, types
        import jax, jax.numpy as jnp
        module = types.ModuleType("readme_methods")  # as if imported from a plugin's package
        sys.modules[module.__name__] = module
        exec(compile(sys.stdin.read(), "README.md", "exec"), module.__dict__)
        import ntkbench as nb
        assert isinstance(module.arch(10, width=16), nb.models.Arch)
        x = jax.random.normal(jax.random.key(1), (64, 40, 1))
        train = nb.Split(x, jnp.arange(64) % 10, 10)
        predict = module.wide_mlp(jax.random.key(0), train, width=16, steps=5)
        logits = predict(x[:4])
        assert logits.shape == (4, 10) and bool(jnp.isfinite(logits).all()), logits
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", check], input=code, capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert run.returncode == 0, run.stdout + run.stderr


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
