"""The fleet commands against real `braillejobs worker` processes on a real Redis.

One worker serves the module (listing, metrics, pause/resume, exporter); the drain test starts
its own, on its own queue, because it ends it.
"""

from __future__ import annotations

import json
import random
import subprocess
import time
import urllib.request
import uuid
from datetime import datetime, timezone

import pytest

from tests.fleet.support import cli, free_port, sample, scrape

pytestmark = pytest.mark.redis

WORDS = ("the lighthouse keeper climbed stairs every evening to light lamp which guided ships "
         "past rocks of northern coast during storms and fog while gulls cried above waves "
         "knowledge children library braille reading because through would should").split()


def prose(seed: int, words: int) -> str:
    rng = random.Random(seed)
    paragraphs = []
    while words > 0:
        n = min(words, rng.randint(40, 120))
        words -= n
        sentence = " ".join(rng.choice(WORDS) for _ in range(n))
        paragraphs.append(sentence[0].upper() + sentence[1:] + f". Item {rng.randint(1, 999)}.")
    return "\n\n".join(paragraphs) + "\n"


@pytest.fixture(scope="module")
def worker(fleet):
    return fleet.start_worker()


def test_workers_list_json_shows_the_live_worker(fleet, worker):
    listed = fleet.json("workers", "list", "-d", worker.name)
    assert [w["hostname"] for w in listed] == [worker.name]
    w = listed[0]
    assert w["queues"] == [fleet.queue]
    assert w["pool"] == "threads" and w["concurrency"] == 1
    assert w["pid"] == worker.proc.pid
    assert w["metrics_port"] == worker.port
    assert w["active"] == 0 and w["reserved"] == 0
    assert w["uptime_s"] >= 0
    assert any(m["engine"] == "louis" for m in w["models"])
    assert w["device"] == "cpu" and w["gpu_memory"] == []
    # The table for people shows the same worker.
    table = fleet.run("workers", "list", "-d", worker.name).stdout
    assert worker.name in table and "threads" in table and fleet.queue in table
    # The liveness probe answers from the consumer loop, which ticks every second.
    with urllib.request.urlopen(f"http://127.0.0.1:{worker.port}/healthz", timeout=10) as resp:
        assert resp.status == 200
        assert resp.read().decode().startswith("ok: the consumer loop ran")


def test_a_short_timeout_costs_no_reply(fleet, worker):
    """A wait for replies cut short (0.5 s, under kombu's 1 s Redis read) does not swallow the
    replies to the next broadcast: the stats and the queues still come back."""
    for _ in range(2):
        listed = {w["hostname"]: w for w in fleet.json("workers", "list", "--timeout", "0.5")}
        assert listed[worker.name]["pool"] == "threads", listed
        assert listed[worker.name]["queues"] == [fleet.queue]
        consumers = {q["queue"]: q["consumers"] for q in fleet.json("queues", "--timeout", "0.5")}
        assert worker.name in consumers[fleet.queue]


def test_metrics_move_by_exactly_the_documents_and_characters_processed(fleet, worker):
    before = worker.metrics()
    texts = [prose(seed, words) for seed, words in ((1, 300), (2, 50), (3, 800))]
    folder = fleet.write_documents("metrics-job", texts)
    # A .docx that is not a zip file: accepted at submit, fails in the worker.
    (folder / "broken.docx").write_bytes(b"this is not a docx file at all")
    # Characters braille has no sign for, transcribed and counted by kind (formats.charset).
    (folder / "cities.txt").write_text("Moscow is \u041c\u043e\u0441\u043a\u0432\u0430 "
                                       "\u2764\ufe0f.\n", encoding="utf-8")
    job = fleet.submit(folder)
    counts = fleet.wait_job(job)
    assert counts == {"done": 4, "failed": 1}
    after = worker.metrics()

    rows = fleet.db("SELECT chars, cells, chars_by_engine FROM documents "
                    "WHERE job_id = ? AND status = 'done'", (job,))
    chars = sum(r[0] for r in rows)
    cells = sum(r[1] for r in rows)
    by_engine: dict[str, int] = {}
    for r in rows:
        for engine, n in json.loads(r[2]).items():
            by_engine[engine] = by_engine.get(engine, 0) + n
    assert chars > 1000 and sum(by_engine.values()) == chars and set(by_engine) == {"louis"}
    # Every character of the documents passes through the engine: at least the non-space ones.
    assert chars >= sum(len("".join(t.split())) for t in texts)

    def delta(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta("braillejobs_documents_total", status="done", format="brf") == 4
    assert delta("braillejobs_documents_total", status="failed", format="brf") == 1
    assert delta("braillejobs_characters_total", engine="louis") == chars
    assert delta("braillejobs_characters_total", engine="cnn") == 0
    assert delta("braillejobs_fallback_characters_total", from_engine="louis",
                 to_engine="louis") == 0
    assert delta("braillejobs_braille_cells_total", format="brf") == cells
    assert delta("braillejobs_document_duration_seconds_count", format="brf") == 5
    assert delta("braillejobs_task_duration_seconds_count", queue=fleet.queue,
                 status="success") == 1
    assert delta("braillejobs_task_documents_sum", queue=fleet.queue) == 5
    assert delta("braillejobs_transcribed_characters_total", kind="transliterated") == 6
    assert delta("braillejobs_transcribed_characters_total", kind="emoji") == 1
    assert delta("braillejobs_transcribed_characters_total", kind="level") == 0
    # The four readable documents went to the engine in one batch of all their characters.
    assert delta("braillejobs_batch_characters_count", engine="louis") == 1
    assert delta("braillejobs_batch_characters_sum", engine="louis") == chars
    assert sample(after, "braillejobs_model_info", engine="louis",
                  version=next(m["version"] for m in
                               fleet.json("workers", "list", "-d", worker.name)[0]["models"]),
                  device="cpu") == 1
    build = [k for k in after if k[0] == "braillejobs_build_info"]
    assert len(build) == 1 and after[build[0]] == 1
    # Never a job or document id in a label.
    for name, labels in after:
        for _label, value in labels:
            assert job not in value


def test_pause_stops_consumption_and_resume_restarts_it(fleet, worker):
    out = fleet.run("workers", "pause", fleet.queue).stdout
    assert worker.name in out
    listed = fleet.json("workers", "list", "-d", worker.name)[0]
    assert listed["queues"] == [] and listed["paused"] == [fleet.queue]
    again = fleet.run("workers", "pause", fleet.queue, check=False)
    assert again.returncode == 1 and "already paused" in again.stderr
    overview = {q["queue"]: q for q in fleet.json("queues")}
    assert overview[fleet.queue]["paused_on"] == [worker.name]
    assert overview[fleet.queue]["consumers"] == []

    folder = fleet.write_documents("paused-job", [prose(10, 100), prose(11, 120)])
    job = fleet.submit(folder)
    time.sleep(3)  # a consuming worker takes a message within a fraction of a second
    statuses = dict(fleet.db("SELECT status, COUNT(*) FROM documents WHERE job_id = ? "
                             "GROUP BY status", (job,)))
    assert statuses == {"queued": 2}
    waiting = {q["queue"]: q["waiting"] for q in fleet.json("queues")}
    assert waiting[fleet.queue] == 1  # one task message carries both documents

    # `top` shows the paused queue with its waiting message and the job in flight.
    screen = fleet.run("top", "--once").stdout
    assert worker.name in screen and job in screen
    queue_line = next(line for line in screen.splitlines() if line.startswith(fleet.queue))
    assert queue_line.split()[:3] == [fleet.queue, "1", "0"] and worker.name in queue_line
    job_line = next(line for line in screen.splitlines() if line.startswith(job))
    assert "queued" in job_line and " 0.0%" in job_line

    # The exporter sees the waiting message and the paused record. It is configured for
    # another queue: it finds this one through the pause record, later through its consumers.
    port = free_port()
    exporter = subprocess.Popen(
        fleet_cli_args(fleet, "exporter", "--port", str(port), "--addr", "127.0.0.1"),
        env=dict(fleet.env, BRAILLEJOBS_QUEUE=f"other-{uuid.uuid4().hex[:6]}"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    fleet.procs.append(exporter)
    samples = _scrape_when_up(port)
    assert sample(samples, "braillejobs_queue_length", queue=fleet.queue) == 1
    assert sample(samples, "braillejobs_stored_documents", status="queued") == 2
    assert sample(samples, "braillejobs_jobs", state="queued") == 1
    assert sample(samples, "braillejobs_exporter_source_up", source="broker") == 1
    assert sample(samples, "braillejobs_exporter_source_up", source="database") == 1
    assert sample(samples, "braillejobs_workers_online") >= 1
    assert sample(samples, "braillejobs_unfinished_job_max_idle_seconds") >= 3
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
        assert r.read() == b"ok\n"

    # A worker that starts while the queue is paused leaves it paused and joins the record.
    late = fleet.start_worker()
    late_info = fleet.json("workers", "list", "-d", late.name)[0]
    assert late_info["queues"] == [] and late_info["paused"] == [fleet.queue]
    assert sorted({q["queue"]: q for q in fleet.json("queues")}[fleet.queue]["paused_on"]) == \
        sorted([worker.name, late.name])
    assert dict(fleet.db("SELECT status, COUNT(*) FROM documents WHERE job_id = ? "
                         "GROUP BY status", (job,))) == {"queued": 2}

    out = fleet.run("workers", "resume", fleet.queue).stdout
    assert worker.name in out and late.name in out
    assert fleet.wait_job(job, timeout=60) == {"done": 2}
    for w in (worker, late):
        listed = fleet.json("workers", "list", "-d", w.name)[0]
        assert listed["queues"] == [fleet.queue] and listed["paused"] == []
    time.sleep(2.1)  # the exporter reads its sources at most every 2 s
    samples = scrape(port)
    assert sample(samples, "braillejobs_queue_length", queue=fleet.queue) == 0  # consumed
    by_state = dict(fleet.db("SELECT status, COUNT(*) FROM jobs GROUP BY status"))
    assert by_state.get("done", 0) >= 1
    for state in ("queued", "running", "done", "failed", "cancelled"):
        assert sample(samples, "braillejobs_jobs", state=state) == by_state.get(state, 0)
    assert sample(samples, "braillejobs_unfinished_job_max_idle_seconds") == 0
    exporter.terminate()
    exporter.wait(timeout=10)
    late.proc.terminate()
    assert late.proc.wait(timeout=30) == 0
    assert {q["queue"]: q for q in fleet.json("queues")}[fleet.queue]["paused_on"] == []


def test_top_runs_live_in_a_terminal_and_quits_on_ctrl_c(fleet, worker):
    import fcntl
    import os
    import pty
    import select
    import signal
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 45, 160, 0, 0))
    proc = subprocess.Popen(cli() + ["top", "--interval", "0.5"], env=fleet.env, stdin=slave,
                            stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    screen = b""
    deadline = time.monotonic() + 20
    try:
        while time.monotonic() < deadline and screen.count(b"Jobs in flight") < 2:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    screen += os.read(master, 65536)
                except OSError:
                    break
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    text = screen.decode(errors="replace")
    assert text.count("Jobs in flight") >= 2, text[-2000:]  # refreshed at least once
    assert worker.name in text and fleet.queue in text


def test_resume_without_a_pause_says_what_to_do(fleet, worker):
    result = fleet.run("workers", "resume", f"never-paused-{uuid.uuid4().hex[:6]}",
                       check=False)
    assert result.returncode == 1
    assert "not paused" in result.stderr and "--destination" in result.stderr


def test_busy_worker_answers_and_drain_lets_the_task_finish(fleet):
    queue = f"{fleet.queue}-drain"
    busy = fleet.start_worker(queue=queue)
    try:
        _busy_and_drain(fleet, busy, queue)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- worker log ---\n{busy.log_tail()}") from None


def _busy_and_drain(fleet, busy, queue):
    # One document (about 6 MB) that keeps the worker busy for about ten seconds here.
    folder = fleet.write_documents("long-job", [prose(99, 900_000)])
    env_queue = fleet.env["BRAILLEJOBS_QUEUE"]
    fleet.env["BRAILLEJOBS_QUEUE"] = queue
    try:
        job = fleet.submit(folder)
    finally:
        fleet.env["BRAILLEJOBS_QUEUE"] = env_queue
    deadline = time.monotonic() + 30
    while not fleet.db("SELECT 1 FROM documents WHERE job_id = ? AND status = 'running'",
                       (job,)):
        assert time.monotonic() < deadline, "the worker never started the task"
        time.sleep(0.1)

    # While the task runs, the worker answers remote control within the default timeout.
    started = time.monotonic()
    listed = fleet.json("workers", "list", "-d", busy.name)
    answered_in = time.monotonic() - started
    assert listed[0]["active"] == 1
    # Celery's own `inspect active` (what replaced `workers active`) names the task's job.
    inspected = fleet.celery("inspect", "active", "-d", busy.name, "-t", "5", "--json")
    assert inspected.returncode == 0, inspected.stdout + inspected.stderr
    active = json.loads(inspected.stdout)
    assert len(active[busy.name]) == 1 and active[busy.name][0]["args"][0] == job
    assert fleet.db("SELECT status FROM documents WHERE job_id = ?", (job,)) == [("running",)], \
        "the task finished too early to show that a busy worker answers"
    assert answered_in < 10

    drain_started = datetime.now(timezone.utc)
    drained = fleet.run("workers", "drain", busy.name, timeout=180)
    assert drained.stdout == f"{busy.name}: drained (1 task(s) finished), exited\n"
    said = drained.stderr.splitlines()
    assert said[0] == f"{busy.name}: stopped consuming {queue}"
    assert said[-1] == f"{busy.name}: idle, shutting down"
    # The waiting line is said once, not at every poll (about one a second), and again only
    # when what it waits for changes.
    assert f"{busy.name}: waiting for 1 task(s) to finish" in said
    assert all(a != b for a, b in zip(said, said[1:])) and len(said) <= 5, said
    [(finished,)] = fleet.db("SELECT finished_at FROM documents WHERE job_id = ?", (job,))
    waited = datetime.fromisoformat(finished).replace(tzinfo=timezone.utc) - drain_started
    assert waited.total_seconds() > 3, "the task ended too soon to show that the waiting " \
        "line is not repeated at every poll"
    assert fleet.db("SELECT status FROM documents WHERE job_id = ?", (job,)) == [("done",)]
    assert busy.proc.wait(timeout=30) == 0
    # Nothing was left behind for another worker: the message was acknowledged.
    waiting = {q["queue"]: q["waiting"] for q in fleet.json("queues", "-q", queue)}
    assert waiting[queue] == 0


def test_celery_control_shutdown_stops_the_worker(fleet, worker):
    """What deploy/README.md gives in place of `workers shutdown`: the worker's gate lets
    Celery's own broadcast through and the worker makes a warm shutdown. A shutdown sends no
    reply, so Celery reports that no node replied."""
    fleet.celery("control", "shutdown", "-d", worker.name, "-t", "1")
    assert worker.proc.wait(timeout=30) == 0
    gone = fleet.celery("inspect", "ping", "-d", worker.name, "-t", "1")
    assert gone.returncode != 0


def fleet_cli_args(fleet, *args: str) -> list[str]:
    return cli() + list(args)


def _scrape_when_up(port: int, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return scrape(port)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
