"""The leaderboard in a real browser (headless Chromium): what the DOM holds after scripts ran.

Needs Debian's `chromium` at /usr/bin/chromium (CI installs it); skipped otherwise. Screenshots go
to the system temp folder (printed; see them with `pytest -s`), never into the repository.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from test_leaderboard import EVIL_ESCAPED, write_results

from ntkbench.leaderboard import build_site

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
SHOTS = Path(tempfile.gettempdir()) / "ntkbench-leaderboard-shots"


def chromium(*args: str, timeout: float = 60) -> str:
    profile = tempfile.mkdtemp(prefix="ntkbench-chromium-")
    try:
        proc = subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=timeout
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("lb-browser")
    return build_site(write_results(tmp / "results"), tmp / "site").parent


def dom(path: Path, fragment: str = "") -> str:
    return chromium("--dump-dom", path.as_uri() + fragment)


def test_hostile_method_name_renders_as_text(site):
    for name in ("index.html", "sample_complexity--mnist1d.html"):
        d = dom(site / name)
        assert len(re.findall(r"<script\b", d)) == 1, name  # the sorter only; nothing injected
        assert "<img" not in d and "alert(2)>" not in d, name
        assert 'data-sorter="ready"' in d, name  # the inline sorter ran (CSP allowed it by hash)
    d = dom(site / "sample_complexity--mnist1d.html")
    assert EVIL_ESCAPED in d  # Chromium serialises the text node back with entities
    assert 'aria-sort="none"' in d


def _methods_in_first_table(d: str) -> list[str]:
    table = re.search(r'<table class="sortable" id="t0".*?</table>', d, flags=re.S).group(0)
    return re.findall(r'<tbody class="rec[^"]*"><tr><td>([^<]*)', table)


def test_sorter_orders_rows(site):
    page = site / "sample_complexity--mnist1d.html"
    default = _methods_in_first_table(dom(page))
    assert default == sorted(default)
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", re.search(r'id="t0".*?</thead>', dom(page), flags=re.S).group(0))
    col = heads.index("test_acc@n=250 ↑")  # the head carries the direction arrow
    # descending: cnn (40.5) first, the failed run (no value) last
    by_acc = _methods_in_first_table(dom(page, f"#sort=t0:{col}:desc"))
    assert by_acc[0] == "cnn" and by_acc[-1] == "broken", by_acc
    assert by_acc != default


def test_screenshots(site):
    SHOTS.mkdir(exist_ok=True)
    for page in ("index.html", "sample_complexity--mnist1d.html", "forgetting--mnist.html", "adversarial--mnist.html"):
        shot = SHOTS / page.replace(".html", ".png")
        chromium(f"--screenshot={shot}", "--window-size=1280,900", (site / page).as_uri())
        assert shot.stat().st_size > 10_000
    print(f"screenshots in {SHOTS}")
