"""`ntkbench validate` stays quiet about a result whose method module changed since only in
docstrings, comments or annotations (read from the git history), and warns about any other change."""

import importlib
import subprocess
import sys

from ntkbench.orchestration.source_history import behaviour, text_hash, unchanged_since

BEFORE = '''"""A method."""


def fit(x, *, steps: int = 7):
    """Train."""
    return x * steps
'''


def git(repo, *args):
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def test_docstrings_and_annotations_do_not_change_behaviour_but_code_does():
    assert behaviour(BEFORE) == behaviour(BEFORE.replace('"""Train."""', "# comment").replace(": int", ""))
    assert behaviour(BEFORE) != behaviour(BEFORE.replace("x * steps", "x + steps"))
    assert behaviour(BEFORE) != behaviour(BEFORE.replace("= 7", "= 8"))  # a default is behaviour


def test_unchanged_since_reads_the_module_at_the_recorded_commit(tmp_path, monkeypatch):
    pkg = tmp_path / "histprobe"
    pkg.mkdir()
    module = pkg / "histprobe_method.py"
    module.write_text(BEFORE)
    git(tmp_path, "init", "-q")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "add", ".")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "m")
    commit = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    record = {"method_source": text_hash(BEFORE), "provenance": {"git_commit": commit.strip()}}
    monkeypatch.syspath_prepend(str(pkg))
    name = "histprobe_method"

    def installed(text):
        module.write_text(text)
        sys.modules.pop(name, None)
        importlib.import_module(name)
        return name

    assert unchanged_since(record, installed(BEFORE.replace('"""Train."""', '"""Train it, better said."""')))
    assert not unchanged_since(record, installed(BEFORE.replace("x * steps", "x * steps + 1")))
    dirty = {**record, "provenance": {"git_commit": commit.strip() + "+dirty"}}
    assert not unchanged_since(dirty, installed(BEFORE))  # uncommitted code ran: not known
    other = {**record, "method_source": "0123456789abcdef"}
    assert not unchanged_since(other, installed(BEFORE))  # the commit's text is not what ran
    sys.modules.pop(name, None)
