"""The leaderboard in a real browser (headless Chromium), as a reader sees it.

Needs Debian's `chromium` at /usr/bin/chromium (CI installs it); skipped, saying so, otherwise.

Two boards. A small one written here (hostile names, a failed run) checks escaping and the sorter
through `--dump-dom`. The board of the committed results (`ntkbench leaderboard --results results`,
so whatever pages exist at test time: index, task and method pages) is opened page by page at
1400 x 900 px in one Chromium driven through the DevTools protocol over `--remote-debugging-pipe`
(JSON on file descriptors 3 and 4: no websocket client, no driver), and every page must have:

- no console error: `console.error`, uncaught exceptions, and what Chromium itself logs as an error
  (a blocked resource, a Content-Security-Policy violation);
- no horizontal scroll: the document is no wider than the 1400 px window's client area;
- charts that explain themselves: every SVG chart on a page names its chart (`<title>`), and each
  one was checked where it was drawn, on its matplotlib `Figure` (the SVG keeps text as text but
  loses matplotlib's group ids, so "which text is the legend" is only known there): a title, both
  axis labels and a legend (a heatmap's legend is its labelled colour bar; small multiples of
  distilled signals are pictures: a title and a label per panel). Picture grids and chart tables
  are HTML: they need a title (and a table its header row);
- links that resolve: every `href` (and SVG `<use>` reference) is a file of the board, or an anchor
  that exists on its page; `#sort=<table>:<col>` names a table that exists;
- numbers that are in the twin: every number in a table cell of a page with a CSV / Markdown twin
  (`<page>.csv`, `<page>.md`) is a number of the twin, as written or of equal value, ranks and
  published numbers' sources included. Left out: details rows (provenance: timings, versions,
  hashes).

`make screenshots` (or `python tests/test_leaderboard_browser.py docs/img`) writes the index and two
task pages, 1400 px wide, to docs/img/; the test writes the same into a temp folder.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from matplotlib.colorbar import Colorbar
from matplotlib.figure import Figure
from test_leaderboard import EVIL_ESCAPED, ROOT, write_results

from ntkbench import cli
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
    # the name may link to its page; the row group is anchored (id="run-<config_hash>")
    return re.findall(r'<tbody class="rec[^"]*"[^>]*><tr><td>(?:<a [^>]*>)?([^<]*)', table)


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


# -- Chromium through the DevTools protocol -------------------------------------------------------


class Chromium:
    """One headless Chromium, one tab, spoken to over `--remote-debugging-pipe`: it reads
    NUL-terminated JSON commands on fd 3 and writes replies and events on fd 4."""

    def __init__(self, width: int = 1400, height: int = 900):
        self.profile = tempfile.mkdtemp(prefix="ntkbench-chromium-")
        to_chrome, self._in = os.pipe()
        self._out, from_chrome = os.pipe()

        def as_fd_3_and_4():  # in the child, before exec: the pipe ends as fds 3 and 4, inheritable
            for fd, wanted in ((to_chrome, 3), (from_chrome, 4)):
                if fd == wanted:
                    os.set_inheritable(fd, True)
                else:
                    os.dup2(fd, wanted)  # a dup2 copy is inheritable; every other fd of ours is not

        args = [CHROMIUM, *FLAGS, "--remote-debugging-pipe", f"--user-data-dir={self.profile}", "about:blank"]
        # close_fds=False: it would close fds 3 and 4 after preexec_fn (and pass_fds needs them open in
        # this process); Python opens every other fd non-inheritable (PEP 446), so nothing else leaks
        self.proc = subprocess.Popen(
            args, close_fds=False, preexec_fn=as_fd_3_and_4, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        os.close(to_chrome)
        os.close(from_chrome)
        self._buf, self._id = b"", 0
        self.events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=True)
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
        self.call("Emulation.setDeviceMetricsOverride", session=True, **metrics)

    def _next(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            ready, _, _ = select.select([self._out], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self._out, 1 << 20)
            if not chunk:
                raise EOFError(f"chromium exited ({self.proc.poll()})")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def _wait(self, match, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while not match(msg := self._next(deadline)):
            self.events.append(msg)
        return msg

    def call(self, method: str, *, session: bool = False, **params) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.session
        os.write(self._in, json.dumps(msg).encode() + b"\0")
        reply = self._wait(lambda m: m.get("id") == self._id)
        assert "error" not in reply, (method, reply["error"])
        return reply["result"]

    def open(self, url: str) -> list[str]:
        """Load `url` (until its load event); the console errors it caused."""
        self.events.clear()
        self.call("Page.navigate", session=True, url=url)
        self._wait(lambda m: m.get("method") == "Page.loadEventFired")
        self.js("0")  # a round trip: events queued before it are in self.events
        return [e for m in self.events if (e := console_error(m))]

    def js(self, expression: str):
        r = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True)
        assert "exceptionDetails" not in r, r["exceptionDetails"]
        return r["result"].get("value")

    def screenshot(self, path: Path) -> None:
        import base64

        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", session=True, format="png")["data"]))

    def close(self) -> None:
        try:
            self.call("Browser.close")
            self.proc.wait(timeout=10)
        except (AssertionError, EOFError, TimeoutError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        os.close(self._in)
        os.close(self._out)
        shutil.rmtree(self.profile, ignore_errors=True)


def console_error(msg: dict) -> str:
    """The text of a console error, an uncaught exception or an error Chromium logged; '' otherwise."""
    p = msg.get("params", {})
    if msg.get("method") == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
        return "console.error: " + " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
    if msg.get("method") == "Runtime.exceptionThrown":
        d = p.get("exceptionDetails", {})
        return "exception: " + str(d.get("exception", {}).get("description") or d.get("text"))
    if msg.get("method") == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
        return f"{p['entry'].get('source')}: {p['entry'].get('text')} {p['entry'].get('url', '')}".strip()
    return ""


# -- the board of the committed results, as the browser sees it -----------------------------------


def figure_problems(fig: Figure) -> list[str]:
    """What a chart lacks, read off the matplotlib Figure as it is saved (see the module doc)."""
    bars = [ax for ax in fig.axes if isinstance(getattr(ax, "_colorbar", None), Colorbar)]
    panels = [ax for ax in fig.axes if ax not in bars and ax.get_visible() and ax.axison]
    suptitle = fig.get_suptitle()
    if len(panels) > 1:  # small multiples of signals: pictures with a label each
        missing = [i for i, ax in enumerate(panels) if not ax.get_title()]
        return (["no title"] if not suptitle else []) + ([f"panels without a label: {missing}"] if missing else [])
    if not panels:
        return ["no axes"]
    (ax,) = panels
    out = []
    if not (ax.get_title("left") or ax.get_title() or ax.get_title("right") or suptitle):
        out.append("no title")
    if not ax.get_xlabel():
        out.append("no x-axis label")
    if not ax.get_ylabel():
        out.append("no y-axis label")
    legends = [lg for lg in [*fig.legends, ax.get_legend()] if lg is not None]
    entries = [t.get_text() for lg in legends for t in lg.get_texts()]
    labelled_bar = any(b.get_ylabel() or b.get_xlabel() for b in bars)
    if not labelled_bar and (not entries or not all(entries)):
        out.append(f"no legend (entries {entries})")
    return out


@pytest.fixture(scope="module")
def board(tmp_path_factory) -> tuple[Path, dict[str, list[str]]]:
    """(the built board of results/, {chart title: what its Figure lacks}) for every chart drawn."""
    out = tmp_path_factory.mktemp("board") / "leaderboard"
    charts: dict[str, list[str]] = {}
    savefig = Figure.savefig

    def checked_savefig(fig, *args, **kwargs):
        # keyed by title, so a chart drawn again (another page, the same title) adds its lacks
        charts.setdefault(kwargs.get("metadata", {}).get("Title", ""), []).extend(figure_problems(fig))
        return savefig(fig, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Figure, "savefig", checked_savefig)
        assert cli.main(["leaderboard", "--results", str(ROOT / "results"), "--out", str(out)]) == 0
    return out, charts


# Everything the checks need from one loaded page, in one evaluation.
PAGE_FACTS = """(() => {
  const de = document.documentElement;
  const all = (sel) => Array.from(document.querySelectorAll(sel));
  return {
    scrollWidth: de.scrollWidth, clientWidth: de.clientWidth,
    wide: all('body *').filter(e => e.getBoundingClientRect().right > de.clientWidth + 0.5)
      .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className && e.className.baseVal === undefined
        ? '.' + e.className : '') + (e.id ? '#' + e.id : '')),
    hrefs: all('[href]').map(e => e.getAttribute('href')),
    uses: all('use').map(e => e.getAttribute('href') || e.getAttribute('xlink:href')),
    ids: all('[id]').map(e => e.id),
    svgTitles: all('svg.chart').map(s => (s.querySelector('title') || {}).textContent || ''),
    htmlCharts: all('.synthetic, figure.ftable').map(f => ({
      title: ((f.querySelector('.ctitle') || {}).textContent || '').trim(),
      header: f.tagName !== 'FIGURE' || !!f.querySelector('thead th')})),
    cells: all('table').flatMap(t => Array.from(t.rows).filter(tr => !tr.classList.contains('details'))
      .flatMap(tr => Array.from(tr.cells).map(c => c.textContent))),
  };
})()"""


@pytest.fixture(scope="module")
def pages(board) -> dict[str, dict]:
    """{page name: its facts and console errors} for every page of the board."""
    site, _ = board
    browser = Chromium()
    try:
        seen = {}
        for page in sorted(site.glob("*.html")):
            errors = browser.open(page.as_uri())
            seen[page.name] = {**browser.js(PAGE_FACTS), "errors": errors}
        return seen
    finally:
        browser.close()


def test_the_checks_see_a_broken_page(tmp_path):
    """Each check fails where it should: a page with a console error, an uncaught exception, a
    2000 px wide block and a dead link; a Figure with nothing on it."""
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html><body><script>console.error("boom"); null.x;</script>'
        '<div style="width:2000px">wide</div><a href="gone.html">x</a><a href="#nowhere">y</a></body></html>'
    )
    browser = Chromium()
    try:
        errors = browser.open(page.as_uri())
        facts = browser.js(PAGE_FACTS)
    finally:
        browser.close()
    assert any("boom" in e for e in errors) and any(e.startswith("exception: TypeError") for e in errors), errors
    assert facts["scrollWidth"] > facts["clientWidth"], facts
    assert [_unresolved(tmp_path, "bad.html", h, {"bad.html": facts}) for h in facts["hrefs"]] == [
        "no such file in the board",
        "no element #nowhere",
    ]
    fig = Figure()
    fig.add_subplot()
    assert figure_problems(fig) == ["no title", "no x-axis label", "no y-axis label", "no legend (entries [])"]


def test_board_has_pages(board, pages):
    assert "index.html" in pages and len(pages) > 5, sorted(pages)
    assert "claims.html" in pages, "the claims page is checked like every other page"


def test_no_console_errors(pages):
    bad = {name: p["errors"] for name, p in pages.items() if p["errors"]}
    assert not bad, bad


def test_no_horizontal_scroll_at_1400px(pages):
    bad = {
        n: (p["scrollWidth"], p["clientWidth"], p["wide"])
        for n, p in pages.items()
        if p["scrollWidth"] > p["clientWidth"]
    }
    assert not bad, f"document wider than the window (scrollWidth, clientWidth, widest elements): {bad}"


def test_every_chart_has_title_axis_labels_and_legend(board, pages):
    _, charts = board
    assert charts, "no chart drawn"
    assert not {t: p for t, p in charts.items() if p or not t}, "charts lacking a part"
    svg = [(n, t) for n, p in pages.items() for t in p["svgTitles"]]
    assert svg, "no SVG chart on any page"
    assert not [(n, t) for n, t in svg if t not in charts], "SVG charts not drawn through the checked Figure"
    bad = [(n, f) for n, p in pages.items() for f in p["htmlCharts"] if not f["title"] or not f["header"]]
    assert not bad, bad


def _unresolved(site: Path, name: str, href: str, pages: dict[str, dict]) -> str | None:
    parts = urlsplit(href)
    if parts.scheme in ("http", "https"):  # tests never touch the network: a well-formed URL is all we ask
        return None if parts.netloc else "malformed URL"
    if parts.scheme or parts.netloc:
        return f"scheme {parts.scheme!r} on a static board"
    target = (site / unquote(parts.path)).resolve() if parts.path else site / name
    if not target.is_file() or site.resolve() not in target.resolve().parents:
        return "no such file in the board"
    frag = unquote(parts.fragment)
    if not frag or target.suffix != ".html":
        return None
    ids = set(pages[target.name]["ids"])
    anchor = frag.removeprefix("sort=").split(":")[0] if frag.startswith("sort=") else frag
    return None if anchor in ids else f"no element #{anchor}"


def test_every_link_resolves(board, pages):
    site, _ = board
    bad = [
        (name, href, why)
        for name, p in pages.items()
        for href in [*p["hrefs"], *p["uses"]]
        if (why := _unresolved(site, name, href, pages))
    ]
    assert not bad, bad
    twins = [n for n in pages if (site / n).with_suffix(".csv").exists()]
    assert twins and all((site / n).with_suffix(".md").exists() for n in twins)


NUMBER = re.compile(r"(?<![\w.])[-−]?\d+(?:[.,]\d+)*(?:\.\d+)?(?:e[-+]?\d+)?(?![\w])", re.IGNORECASE)


def numbers(text: str) -> set[str]:
    return {m.group(0).replace("−", "-") for m in NUMBER.finditer(text)}


def _value(token: str) -> float | None:
    try:
        return float(token.replace(",", ""))
    except ValueError:
        return None


def test_every_table_number_is_in_the_twin(board, pages):
    site, _ = board
    checked, bad = 0, {}
    for name, p in pages.items():
        csv, md = (site / name).with_suffix(".csv"), (site / name).with_suffix(".md")
        if not csv.exists() and not md.exists():
            continue
        twin = numbers("\n".join(f.read_text() for f in (csv, md) if f.exists()))
        values = {v for t in twin if (v := _value(t)) is not None}
        shown = set().union(*map(numbers, p["cells"]))
        checked += len(shown)
        if missing := sorted(t for t in shown if t not in twin and _value(t) not in values):
            bad[name] = missing
    assert checked, "no table numbers on any page with a twin"
    assert not bad, bad


SCREENSHOT_PAGES = ("index.html", "distillation--fashion_mnist.html", "training_dynamics--mnist1d.html")


def screenshots(site: Path, out_dir: Path, names=SCREENSHOT_PAGES) -> list[Path]:
    """The top of each page in a 1400 x 900 px window, as PNG files in `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    browser = Chromium()
    shots = []
    try:
        for name in names:
            assert not browser.open((site / name).as_uri()), name
            shots.append(out_dir / name.replace(".html", ".png"))
            browser.screenshot(shots[-1])
    finally:
        browser.close()
    return shots


def test_screenshots(board):
    site, _ = board
    for shot in screenshots(site, SHOTS):
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000, shot
    print(f"screenshots in {SHOTS}")


if __name__ == "__main__":  # make screenshots: python tests/test_leaderboard_browser.py docs/img
    if not Path(CHROMIUM).exists():
        sys.exit(f"needs Debian's chromium at {CHROMIUM}")
    with tempfile.TemporaryDirectory() as tmp:
        board_dir = Path(tmp) / "leaderboard"
        if cli.main(["leaderboard", "--results", str(ROOT / "results"), "--out", str(board_dir)]) != 0:
            sys.exit("the leaderboard did not build")
        for shot in screenshots(board_dir, Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img")):
            print(f"wrote {shot} ({shot.stat().st_size // 1024} KiB)")
