"""The exporter's status page in a real browser (headless Chromium) against a real fleet: a
running job's progress shows, hostile names and paths stay text, nothing secret is on it.

Chromium is Debian's package ``chromium`` (scripts/setup.sh installs it); without it the browser
tests are skipped, saying so.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.fleet.support import sample

pytestmark = pytest.mark.redis

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is absent (Debian package chromium; scripts/setup.sh "
                             "installs it)")

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"
HOSTILE_FILE = "<img src=x onerror=alert(3)>.docx"
DOCUMENTS = 16
WORDS = ("lighthouse keeper stairs evening lamp ships rocks coast storms fog gulls waves "
         "library braille reading children knowledge harbour lantern").split()
# The colour the page fills progress bars with (braillejobs/fleet/status_page.py).
BAR_FILL = (0x2A, 0x7A, 0xE2)


def prose(seed: int, words: int) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + ".\n"


class Dom(HTMLParser):
    """The elements, the text and the table rows of a page as Chromium serialised its DOM."""

    def __init__(self, markup: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.texts: list[str] = []
        self.rows: list[list[str]] = []
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {k: v or "" for k, v in attrs}))
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th") and self.rows:
            self.rows[-1].append("")

    def handle_data(self, data):
        self.texts.append(data)
        if self.rows and self.rows[-1]:
            self.rows[-1][-1] += data

    def row(self, first: str) -> list[str]:
        return next(r for r in self.rows if r and r[0].strip() == first)

    def text(self) -> str:
        return "".join(self.texts)

    def tags(self) -> set[str]:
        return {tag for tag, _a in self.elements}


def chromium(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
                           "--hide-scrollbars", "--window-size=1200,900", *args],
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def page(fleet, tmp_path_factory):
    """A fleet with a job half done and its queue paused, a queued job with a hostile name, and
    a failed document with a hostile file name; the exporter serving the page."""
    fleet.env["BRAILLEJOBS_DOCUMENTS_PER_TASK"] = "1"  # one message per document
    worker = fleet.start_worker()
    exporter = fleet.start_exporter()
    # about 700 kB of text each: a second or so of liblouis per document here
    folder = fleet.write_documents("half-done", [prose(i, 100_000) for i in range(DOCUMENTS - 1)])
    (folder / HOSTILE_FILE).write_bytes(b"this is not a docx file")
    running = fleet.submit(folder, "--name", "Lighthouse history, large print")
    deadline = time.monotonic() + 120
    while fleet.db("SELECT COUNT(*) FROM documents WHERE job_id = ? AND status IN "
                   "('done', 'failed')", (running,))[0][0] < 2:
        assert time.monotonic() < deadline, "the worker did not start on the job"
        time.sleep(0.1)
    fleet.run("workers", "pause", fleet.queue)
    while fleet.db("SELECT COUNT(*) FROM documents WHERE job_id = ? AND status = 'running'",
                   (running,))[0][0]:
        assert time.monotonic() < deadline, "the running task did not finish"
        time.sleep(0.2)
    counts = dict(fleet.db("SELECT status, COUNT(*) FROM documents WHERE job_id = ? "
                           "GROUP BY status", (running,)))
    assert counts.get("failed") == 1 and 0 < counts["queued"] < DOCUMENTS, counts
    hostile = fleet.submit(fleet.write_documents("hostile", ["Short.", "Also short."]),
                           "--name", HOSTILE)
    exporter.until(lambda s: sample(s, "braillejobs_queue_paused", queue=fleet.queue) == 1)
    time.sleep(2.1)  # the page's own reads are at most 2 s old: let them see the pause
    return {"exporter": exporter, "worker": worker, "running": running, "counts": counts,
            "hostile": hostile, "dir": tmp_path_factory.mktemp("browser")}


def test_the_page_is_plain_html_that_runs_nothing(page):
    body, headers = page["exporter"].get("/")
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    text = body.decode()
    assert '<meta http-equiv="refresh" content="5">' in text
    assert "<script" not in text and "<img" not in text
    for secret in ("redis://", "sqlite:", "postgresql", "BRAILLEJOBS_"):
        assert secret not in text


@needs_chromium
def test_the_dom_shows_progress_and_hostile_names_as_text(page, fleet):
    result = chromium("--dump-dom", page["exporter"].url)
    assert result.returncode == 0, result.stderr[-3000:]
    dom = Dom(result.stdout)
    assert ("meta", {"http-equiv": "refresh", "content": "5"}) in dom.elements

    done = page["counts"].get("done", 0)
    finished = done + page["counts"]["failed"]
    bars = [a for tag, a in dom.elements if tag == "progress" and
            a.get("aria-label", "").startswith(f"job {page['running'][:8]}:")]
    assert len(bars) == 1, dom.elements
    bar = bars[0]
    assert (bar["value"], bar["max"], bar["data-done"], bar["data-total"]) == (
        str(finished), str(DOCUMENTS), str(done), str(DOCUMENTS))
    text = dom.text()
    assert f"{finished}/{DOCUMENTS} finished ({done} done, 1 failed, 0 running)" in text
    # the queue: documents waiting (both jobs'), messages, consumers, consumed by, paused
    queued = fleet.db("SELECT COUNT(*) FROM documents WHERE status = 'queued'")[0][0]
    queue_row = dom.row(fleet.queue)
    assert queue_row[1:6] == [str(queued), str(queued), "0", "none",
                              f"paused on {page['worker'].name}"]
    # the worker, its device and its model
    worker_row = dom.row(page["worker"].name)
    assert worker_row[1] == "cpu" and worker_row[2].startswith("louis liblouis-")

    # hostile HTML in a job's name and a document's file name is shown as text, never as markup
    assert HOSTILE in text
    assert f"{HOSTILE_FILE}: " in text  # the failure's reason names the file
    assert "script" not in dom.tags() and "img" not in dom.tags()
    assert not any(k.startswith("on") for _t, attrs in dom.elements for k in attrs)
    for secret in ("redis://", "sqlite:", str(fleet.db_path)):
        assert secret not in result.stdout


@needs_chromium
def test_the_screenshot_shows_the_running_jobs_progress(page):
    from PIL import Image

    shot = Path(page["dir"]) / "status.png"
    result = chromium(f"--screenshot={shot}", page["exporter"].url)
    assert result.returncode == 0 and shot.exists(), result.stderr[-3000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == (1200, 900)
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50  # text, tables and bars, not a blank page
    filled = sum(n for n, colour in colours if colour == BAR_FILL)
    # the running job's bar is filled in proportion to its finished documents; the queued job's
    # bar is empty
    finished = page["counts"].get("done", 0) + 1
    assert filled >= 10 * finished, f"{filled} pixels of the bar's colour"
