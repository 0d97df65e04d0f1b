"""Security: start-up checks, JSON only on the wire, Redis password and TLS, secrets masked in
config output, logs and errors, limits with safe defaults."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from tests.reliability.harness import REPORT, RedisServer, base_env, cli, wait_for
from tests.reliability.texts import write_corpus

SECRET = "pw-" + uuid.uuid4().hex[:12]


def _run_cli(args: list[str], timeout: float = 60, **values) -> subprocess.CompletedProcess:
    return subprocess.run([cli(), *args], env=base_env(**values), capture_output=True,
                          text=True, timeout=timeout)


# --- start-up checks ------------------------------------------------------------------------

@pytest.mark.parametrize("limit,visibility", [(600, 600), (600, 300), (600, 602)])
def test_worker_refuses_a_visibility_timeout_not_longer_than_the_time_limit(tmp_path, limit,
                                                                          visibility):
    out = _run_cli(["worker"], database_url=f"sqlite:///{tmp_path / 'bj.db'}",
                   broker_url="redis://127.0.0.1:1/0", task_time_limit=limit,
                   visibility_timeout=visibility)
    assert out.returncode != 0
    text = out.stdout + out.stderr
    assert "BRAILLEJOBS_VISIBILITY_TIMEOUT" in text and "BRAILLEJOBS_TASK_TIME_LIMIT" in text
    assert "Traceback" not in text and len(text.strip().splitlines()) == 1, text


@pytest.mark.parametrize("key,value", [
    ("accept_content", ["json", "pickle"]),
    ("accept_content", ["application/x-python-serialize"]),
    ("task_serializer", "pickle"),
    ("result_serializer", "pickle"),
    ("event_serializer", "yaml"),
    ("result_accept_content", ["pickle"]),
])
def test_non_json_serializers_are_refused_naming_the_setting(key, value):
    from braillejobs.queue import QueueError, check_serializers, make_app

    app = make_app("redis://127.0.0.1:1/0", "q")
    check_serializers(app.conf)  # the app braillejobs builds is JSON only
    assert app.conf.accept_content == ["json"] and app.conf.task_serializer == "json"
    app.conf[key] = value
    with pytest.raises(QueueError) as info:
        check_serializers(app.conf)
    assert key in str(info.value) and "json" in str(info.value)
    if "pickle" in str(value) or "python-serialize" in str(value):
        assert "pickle" in str(info.value) or "python-serialize" in str(info.value)


def test_hostile_broker_messages_are_refused_and_the_worker_survives(fleet_factory,
                                                                     fault_redis, tmp_path):
    """A pickle message that would run code, and JSON messages with nonsense arguments, sent
    straight to the worker's queue: nothing runs, the worker stays up and keeps working."""
    from kombu import Connection, Exchange, Producer, Queue

    dead = f"dead-{uuid.uuid4().hex[:8]}"
    fleet = fleet_factory(fault_redis.url, f"sqlite:///{tmp_path / 'bj.db'}",
                          task_time_limit=30, visibility_timeout=60, dead_letter_list=dead)
    worker = fleet.worker("w")
    marker = tmp_path / "pwned"
    queue_name = fleet.values["queue"]

    class Exploit:
        def __reduce__(self):
            return (Path.touch, (marker,))

    task = "braillejobs.translate_documents"
    bad_args = [
        [], [None], ["x"], [123, [1]], ["nojob", "notalist"], ["nojob", ["a", "b"]],
        [{"job": 1}, [1]], ["nojob", [10**30]], ["nojob", list(range(5000))],
        ["' OR 1=1 --", [1]], ["x" * 100_000, [1]], ["nojob", [1], "extra"],
    ]
    exchange = Exchange(queue_name, type="direct")
    queue = Queue(queue_name, exchange, routing_key=queue_name)
    sent = 0
    with Connection(fault_redis.url) as conn:
        producer = Producer(conn.channel(), exchange=exchange, routing_key=queue_name)
        queue(conn.channel()).declare()
        headers = {"lang": "py", "task": task, "id": uuid.uuid4().hex, "retries": 0}
        producer.publish(((Exploit(),), {}, {}), serializer="pickle",
                         headers={**headers, "id": uuid.uuid4().hex})
        sent += 1
        for args in bad_args:
            producer.publish((args, {}, {}), serializer="json",
                             headers={**headers, "id": uuid.uuid4().hex})
            sent += 1
        producer.publish({"not": "a task"}, serializer="json",
                         headers={**headers, "id": uuid.uuid4().hex})
        producer.publish(b"\x00\xff garbage", content_type="application/octet-stream",
                         content_encoding="binary", headers={**headers,
                                                             "id": uuid.uuid4().hex})
        producer.publish(({"a": 1},), serializer="json",
                         headers={**headers, "task": "os.system", "id": uuid.uuid4().hex})
        sent += 3
    REPORT.hostile_inputs += sent
    REPORT.hostile_by_kind["hostile broker messages"] += sent
    client = fault_redis.client()
    wait_for(lambda: client.llen(queue_name) == 0, 60, "the worker to take every message")
    write_corpus(tmp_path / "in", count=4, size=2_000, seed=3)
    job = fleet.submit([str(tmp_path / "in")], format="brf")
    rows = fleet.wait_finished(job, timeout=60, supervise=False)
    assert all(r["status"] == "done" for r in rows)
    assert not marker.exists(), "the pickle payload ran"
    assert worker.alive() and worker.generation == 1, worker.log_text()[-3000:]
    log = worker.log_text()
    assert "pickle" in log  # refused, and said so
    # Every message but the one whose arguments are well-typed ("' OR 1=1 --" is a job id that
    # matches nothing) is a dead letter, with its reason.
    from braillejobs.fleet import deadletters

    letters = deadletters.entries(client, dead)
    assert len(letters) == sent - 1 and log.count("refused a message") == sent - 1
    assert {d.kind for d in letters} == {"encoding", "body", "arguments", "task"}


# --- passwords and TLS ----------------------------------------------------------------------

def _small_job_through(tmp_path, broker_url: str, name: str, seed: int) -> str:
    """Three small documents through one real worker on ``broker_url`` (SQLite store), all done;
    returns the worker's log."""
    from tests.reliability.harness import Fleet

    fleet = Fleet(tmp_path / "fleet", broker_url, f"sqlite:///{tmp_path / 'bj.db'}")
    try:
        worker = fleet.worker(name)
        write_corpus(tmp_path / "in", count=3, size=1_000, seed=seed)
        job = fleet.submit([str(tmp_path / "in")], format="brf")
        rows = fleet.wait_finished(job, timeout=60, supervise=False)
        assert all(r["status"] == "done" for r in rows)
    finally:
        fleet.stop_all()
    return worker.log_text()


def test_redis_password_works_and_never_shows(tmp_path):
    redis = RedisServer(tmp_path / "redis-auth", password=SECRET).start()
    try:
        url = redis.url
        assert SECRET in url
        values = {"broker_url": url, "database_url": f"sqlite:///{tmp_path / 'bj.db'}",
                  "queue": f"auth-{uuid.uuid4().hex[:8]}", "data_dir": str(tmp_path / "data")}
        assert SECRET not in _small_job_through(tmp_path, url, "auth", seed=5)
        # A wrong password is an error that names the broker without the password.
        wrong = url.replace(SECRET, SECRET + "x")
        out = _run_cli(["submit", str(tmp_path / "in")], broker_url=wrong,
                       database_url=values["database_url"], queue=values["queue"])
        assert out.returncode != 0
        assert SECRET not in out.stdout + out.stderr and "***" in out.stderr, out.stderr
        # `braillejobs config` masks both URLs.
        out = _run_cli(["config"], broker_url=url,
                       database_url=f"postgresql+psycopg2://bj:{SECRET}@db.invalid/bj")
        assert out.returncode == 0 and SECRET not in out.stdout + out.stderr
        assert out.stdout.count("***") >= 2
    finally:
        redis.stop(hard=True)


def test_database_password_never_shows_in_errors(tmp_path):
    url = f"postgresql+psycopg2://bj:{SECRET}@127.0.0.1:1/bj"
    for args in (["status"], ["jobs"], ["db", "upgrade"]):
        out = _run_cli(args, database_url=url, timeout=60)
        assert out.returncode != 0, args
        text = out.stdout + out.stderr
        assert SECRET not in text and "Traceback" not in text, text
    out = _run_cli(["worker"], database_url=url, broker_url="redis://127.0.0.1:1/0")
    assert out.returncode != 0 and SECRET not in out.stdout + out.stderr


@given(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40),
       st.sampled_from(["redis", "rediss", "postgresql+psycopg2", "postgresql"]))
@hsettings(max_examples=200, deadline=None, derandomize=True, database=None)
def test_mask_url_hides_any_percent_encoded_password(password, scheme):
    from braillejobs.config import mask_url

    encoded = quote(password, safe="")
    url = f"{scheme}://user:{encoded}@host.example:6379/0?ssl_cert_reqs=required"
    masked = mask_url(url)
    assert masked == f"{scheme}://user:***@host.example:6379/0?ssl_cert_reqs=required"
    in_query = mask_url(f"{scheme}://host.example/db?sslmode=require&password={encoded}&x=1")
    assert in_query == f"{scheme}://host.example/db?sslmode=require&password=***&x=1"
    REPORT.hostile_inputs += 1
    REPORT.hostile_by_kind["passwords to mask"] += 1


@given(st.text(st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")),
               min_size=1, max_size=40),
       st.sampled_from(["redis", "rediss", "postgresql+psycopg2"]),
       st.sampled_from(["user", "", "me@example.org"]))
@hsettings(max_examples=300, deadline=None, derandomize=True, database=None)
def test_mask_url_hides_a_password_written_as_it_is(password, scheme, user):
    """Unencoded '/', '@', ':' or '?' in the password: the URL may still work for the client,
    and the password must still never show. (White space in a URL needs percent-encoding to
    work at all; an encoded password is the test above.)"""
    from braillejobs.config import mask_url

    url = f"{scheme}://{user}:{password}@host.example:6379/0?ssl_cert_reqs=required"
    assert mask_url(url) == f"{scheme}://{user}:***@host.example:6379/0?ssl_cert_reqs=required"
    REPORT.hostile_inputs += 1
    REPORT.hostile_by_kind["passwords to mask"] += 1


def test_mask_url_examples():
    from braillejobs.config import mask_url

    assert mask_url("redis://:pa/ss@wo@rd@redis.example:6379/0") == \
        "redis://:***@redis.example:6379/0"
    assert mask_url("postgresql://bj:s3cr/t@db.example/bj?sslmode=require") == \
        "postgresql://bj:***@db.example/bj?sslmode=require"
    assert mask_url("redis://redis.example:6379/0") == "redis://redis.example:6379/0"
    assert mask_url("cannot reach redis://:x@y@h:1/0 or postgresql://u:p/q@d/b") == \
        "cannot reach redis://:***@h:1/0 or postgresql://u:***@d/b"


def _make_tls_files(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {k: folder / f"{k}.pem" for k in ("ca", "ca-key", "cert", "key")}
    csr = folder / "server.csr"
    ext = folder / "ext.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    steps = [
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(files["ca-key"]), "-out", str(files["ca"]), "-subj", "/CN=test CA"],
        ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(files["key"]),
         "-out", str(csr), "-subj", "/CN=127.0.0.1"],
        ["openssl", "x509", "-req", "-in", str(csr), "-CA", str(files["ca"]), "-CAkey",
         str(files["ca-key"]), "-CAcreateserial", "-days", "2", "-out", str(files["cert"]),
         "-extfile", str(ext)],
    ]
    for cmd in steps:
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    return files


def test_rediss_tls_broker_with_a_checked_certificate(tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    help_text = subprocess.run(["redis-server", "--help"], capture_output=True, text=True)
    files = _make_tls_files(tmp_path / "tls")
    from tests.reliability.harness import free_port

    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
         "--tls-cert-file", str(files["cert"]), "--tls-key-file", str(files["key"]),
         "--tls-ca-cert-file", str(files["ca"]), "--tls-auth-clients", "no",
         "--requirepass", SECRET, "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        time.sleep(0.5)
        if proc.poll() is not None:
            text = proc.stdout.read().decode(errors="replace")
            if "tls" in text.lower():
                pytest.skip(f"this redis-server has no TLS support: {text[-300:]}")
            raise AssertionError(text + help_text.stdout[-300:])
        url = (f"rediss://:{SECRET}@127.0.0.1:{port}/0?ssl_cert_reqs=required"
               f"&ssl_ca_certs={quote(str(files['ca']), safe='/')}")
        assert SECRET not in _small_job_through(tmp_path, url, "tls", seed=9)
        # The same server without our CA: the certificate check refuses it.
        bad = url.split("&ssl_ca_certs=")[0]
        out = _run_cli(["submit", str(tmp_path / "in")], broker_url=bad,
                       database_url=f"sqlite:///{tmp_path / 'bj.db'}", queue="tls-bad")
        assert out.returncode != 0 and SECRET not in out.stdout + out.stderr
    finally:
        proc.kill()
        proc.wait(10)


# --- limits ---------------------------------------------------------------------------------

def test_limits_have_safe_defaults():
    from braillejobs import config

    assert 0 < config.get("max_document_bytes") <= 64 * 1024 * 1024
    assert 0 < config.get("max_documents_per_job") <= 1_000_000
    assert 0 < config.get("max_pages") <= 100_000
    assert config.get("visibility_timeout") > config.get("task_time_limit")
    assert config.get("max_attempts") >= 1


def test_documents_per_job_and_pages_limits(tmp_path):
    from tests.support import settings

    from braillejobs import jobs

    write_corpus(tmp_path / "in", count=5, size=3_000, seed=1)
    with settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'bj.db'}",
                  max_documents_per_job=4):
        with pytest.raises(jobs.JobError) as info:
            jobs.convert([str(tmp_path / "in")], tmp_path / "o1", jobs.JobOptions.build())
    assert "BRAILLEJOBS_MAX_DOCUMENTS_PER_JOB" in str(info.value)
    (tmp_path / "long").mkdir()
    (tmp_path / "long" / "long.txt").write_text("word " * 40_000)
    (tmp_path / "long" / "short.txt").write_text("A short note.\n")
    for fmt in ("brf", "pef", "unicode"):
        with settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'bj.db'}",
                      max_pages=5):
            result = jobs.convert([str(tmp_path / "long")], tmp_path / f"o-{fmt}",
                                  jobs.JobOptions.build(format=fmt))
        assert result.counts["done"] == 1 and result.counts["failed"] == 1, result.errors
        assert any(e.startswith("long.txt") and "BRAILLEJOBS_MAX_PAGES" in e
                   for e in result.errors), result.errors
