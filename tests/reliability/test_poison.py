"""Poison messages against a real worker and a real Redis: nothing written into the queue's list
ends the worker. Each malformed message of the table, then a seeded run of random mutations of
a real one, is written raw into the list the worker consumes; after each the worker is alive with
the same process id, the message is in the dead-letter list with its reason, and a normal job
submitted afterwards finishes. The operator's side (``queues``, ``dead-letters``, the metric) is
checked on the same worker."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import urllib.request
import uuid

import pytest

from tests.reliability.harness import REPORT, base_env, cli, free_port, wait_for
from tests.reliability.poison import CASES, EMBED, body_of, decode, fresh_ids, mutations, real_message
from tests.reliability.texts import write_corpus

from braillejobs.fleet import deadletters
from braillejobs.messages import KINDS, inspect_raw

FUZZ_COUNT = 240
FUZZ_SEED = 15
VISIBILITY = 60


class GateFleet:
    """One worker for the whole module, its queue, its dead-letter list and checks."""

    def __init__(self, fleet, worker, redis_client, metrics_port: int):
        self.fleet = fleet
        self.worker = worker
        self.pid = worker.pid
        self.redis = redis_client
        self.queue = fleet.values["queue"]
        self.dead = fleet.values["dead_letter_list"]
        self.metrics_port = metrics_port
        self.jobs = 0

    def push(self, raw: bytes) -> None:
        self.redis.lpush(self.queue, raw)  # the priority-0 list of the queue

    def wait_dead_letter(self, raw: bytes, timeout: float = 20) -> deadletters.DeadLetter:
        digest = hashlib.sha256(raw).hexdigest()

        def found():
            self.check_alive()
            return next((d for d in deadletters.entries(self.redis, self.dead)
                         if d.sha256 == digest), None)
        return wait_for(found, timeout, f"a dead letter for sha256 {digest[:12]}")

    def wait_taken(self, timeout: float = 30) -> None:
        wait_for(lambda: self.check_alive() or self.redis.llen(self.queue) == 0, timeout,
                 "the worker to take every message")

    def check_alive(self) -> None:
        assert self.worker.alive(), f"the worker died:\n{self.worker.log_text()[-3000:]}"
        assert self.worker.pid == self.pid and self.worker.generation == 1

    def normal_job_finishes(self, tmp) -> None:
        self.jobs += 1
        folder = tmp / f"job{self.jobs}"
        write_corpus(folder, count=1, size=300, seed=self.jobs)
        job = self.fleet.submit([str(folder)], format="brf")
        rows = self.fleet.wait_finished(job, timeout=60, supervise=False)
        assert [r["status"] for r in rows] == ["done"], rows
        self.check_alive()

    def cli(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([cli(), *args], env=base_env(**self.fleet.values),
                              capture_output=True, text=True, timeout=60, input=input)


@pytest.fixture(scope="module")
def gate(fault_redis, tmp_path_factory):
    from tests.reliability.harness import Fleet

    root = tmp_path_factory.mktemp("poison")
    port = free_port()
    fleet = Fleet(root, fault_redis.url, f"sqlite:///{root / 'bj.db'}", task_time_limit=30,
                  visibility_timeout=VISIBILITY, metrics_port=port,
                  dead_letter_list=f"dead-{uuid.uuid4().hex[:8]}")
    worker = fleet.worker("gate")
    yield GateFleet(fleet, worker, fault_redis.client(), port)
    fleet.stop_all()


@pytest.fixture(scope="module")
def valid(gate) -> bytes:
    """A message exactly as the project's producer sends it, through the pinned Celery."""
    return real_message(gate.fleet.values["broker_url"], f"template-{uuid.uuid4().hex[:8]}")


def test_the_real_message_goes_through_the_gate_and_runs(gate, valid, tmp_path):
    """The pristine message (a job that does not exist) reaches the task: it runs and skips."""
    job = f"probe{uuid.uuid4().hex[:8]}"
    env = fresh_ids(decode(valid))
    env["body"] = body_of([[job, [1]], {}, EMBED])
    gate.push(json.dumps(env).encode())
    wait_for(lambda: f"job {job}:" in gate.worker.log_text(), 30, "the task to run")
    assert deadletters.count(gate.redis, gate.dead) == 0
    gate.normal_job_finishes(tmp_path)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_malformed_message_is_a_dead_letter_and_the_worker_lives(gate, valid, case, tmp_path):
    raw = case.make(fresh_ids(decode(valid)))
    gate.push(raw)
    letter = gate.wait_dead_letter(raw)
    REPORT.hostile_inputs += 1
    REPORT.hostile_by_kind["malformed queue messages"] += 1
    assert letter.kind == case.kind, letter
    assert letter.reason and letter.queue == gate.queue and letter.source == "queue"
    assert letter.worker.startswith("gate-1@")
    stored = deadletters.message(gate.redis, letter, gate.dead)
    assert stored == (raw if not letter.truncated else raw[:deadletters.PREVIEW_BYTES])
    gate.wait_taken()
    gate.normal_job_finishes(tmp_path)


def test_random_mutations_of_a_real_message_never_end_the_worker(gate, valid, tmp_path):
    """A bounded, seeded fuzz run: every mutation the check refuses is a dead letter with that
    reason; every other one reached the task; the worker is the same process throughout."""
    batch = 20
    all_mutations = mutations(valid, FUZZ_COUNT, seed=FUZZ_SEED)
    refused_total = 0
    for start in range(0, len(all_mutations), batch):
        chunk = all_mutations[start:start + batch]
        verdicts = [inspect_raw(raw, max_bytes=1024 * 1024, max_eta_seconds=VISIBILITY)
                    for raw in chunk]
        before = deadletters.count(gate.redis, gate.dead)
        for raw in chunk:
            gate.push(raw)
        gate.wait_taken()
        refused = [(raw, v) for raw, v in zip(chunk, verdicts) if v is not None]
        wait_for(lambda: deadletters.count(gate.redis, gate.dead) - before >= len(refused), 30,
                 f"{len(refused)} dead letters from mutations {start}..{start + batch}")
        by_sha = {d.sha256: d for d in deadletters.entries(gate.redis, gate.dead,
                                                           limit=len(refused) + batch)}
        for raw, verdict in refused:
            letter = by_sha.get(hashlib.sha256(raw).hexdigest())
            assert letter is not None, f"no dead letter for a refused mutation: {raw[:200]!r}"
            assert letter.kind == verdict.kind
        assert deadletters.count(gate.redis, gate.dead) - before == len(refused)
        gate.check_alive()
        refused_total += len(refused)
    REPORT.hostile_inputs += len(all_mutations)
    REPORT.hostile_by_kind["fuzzed queue messages"] += len(all_mutations)
    assert refused_total > FUZZ_COUNT // 2
    gate.normal_job_finishes(tmp_path)


def test_poison_broadcasts_do_not_end_the_worker(gate, tmp_path):
    """Remote control arrives on a fanout channel: a number, or a command of the wrong shape,
    published there is a dead letter too, and the worker still answers a ping."""
    for raw in (b"5", b'{"body": "x", "properties": {}}', b"\xff"):
        gate.redis.publish("/0.celery.pidbox", raw)
        letter = gate.wait_dead_letter(raw)
        assert letter.source == "broadcast" and letter.queue == "celery.pidbox"
    out = subprocess.run([sys.executable, "-m", "celery", "-A", "braillejobs.queue:app",
                          "inspect", "ping", "-t", "5"], env=base_env(**gate.fleet.values),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "pong" in out.stdout, out.stdout + out.stderr
    gate.check_alive()


def test_the_operator_sees_counts_lists_requeues_and_purges(gate, valid, tmp_path):
    gate.push(b"not even json")
    gate.wait_dead_letter(b"not even json")
    rows = json.loads(gate.cli("queues", "--json").stdout)
    row = next(r for r in rows if r["queue"] == gate.queue)
    assert row["dead_letters"] >= 1
    table = gate.cli("queues")
    assert "DEAD LETTERS" in table.stdout and "dead-letters list" in table.stdout

    listed = gate.cli("dead-letters", "list", "--json")
    assert listed.returncode == 0
    assert all({"id", "time", "queue", "kind", "reason"} <= d.keys()
               for d in json.loads(listed.stdout))

    # A message refused for its timelimit, corrected by the operator, and requeued: it runs.
    job = f"requeued{uuid.uuid4().hex[:6]}"
    env = fresh_ids(decode(valid))
    env["body"] = body_of([[job, [1]], {}, EMBED])
    env["headers"]["timelimit"] = 5
    broken = json.dumps(env).encode()
    gate.push(broken)
    letter = gate.wait_dead_letter(broken)
    shown = gate.cli("dead-letters", "show", letter.id[:8])
    assert shown.returncode == 0 and "timelimit" in shown.stdout and letter.id in shown.stdout
    again = gate.cli("dead-letters", "requeue", letter.id)
    assert again.returncode == 1 and "still not a well-formed" in again.stderr
    raw_out = subprocess.run([cli(), "dead-letters", "show", letter.id, "--raw"],
                             env=base_env(**gate.fleet.values), capture_output=True, timeout=60)
    assert raw_out.stdout == broken
    fixed = tmp_path / "fixed.json"
    fixed.write_bytes(raw_out.stdout.replace(b'"timelimit": 5', b'"timelimit": [null, null]'))
    done = gate.cli("dead-letters", "requeue", letter.id, "--message", str(fixed))
    assert done.returncode == 0, done.stderr
    wait_for(lambda: f"job {job}:" in gate.worker.log_text(), 30, "the requeued task to run")
    assert letter.id not in gate.cli("dead-letters", "list").stdout

    # Unknown ids are clear errors; purge asks, then empties the list.
    missing = gate.cli("dead-letters", "show", "ffffffffffff")
    assert missing.returncode == 1 and "no dead letter" in missing.stderr
    refused = gate.cli("dead-letters", "purge", "--all", input="n\n")
    assert refused.returncode == 1 and deadletters.count(gate.redis, gate.dead) > 0
    purged = gate.cli("dead-letters", "purge", "--all", "--yes")
    assert purged.returncode == 0 and deadletters.count(gate.redis, gate.dead) == 0
    assert "no dead letters" in gate.cli("dead-letters", "list").stdout
    gate.check_alive()


def _dead_letter_counter(gate) -> dict[str, float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{gate.metrics_port}/metrics",
                                  timeout=10).read().decode()
    return {line.split('reason="')[1].split('"')[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines() if line.startswith("braillejobs_dead_letters_total{")}


def test_the_worker_counts_dead_letters_by_reason(gate, valid):
    before = _dead_letter_counter(gate)
    assert set(before) == set(KINDS)  # every series exists from the start, at 0 if need be
    one_each = {c.kind: c for c in CASES}
    for case in one_each.values():
        raw = case.make(fresh_ids(decode(valid)))
        gate.push(raw)
        gate.wait_dead_letter(raw)
    after = _dead_letter_counter(gate)
    assert {k: after[k] - before[k] for k in one_each} == {k: 1.0 for k in one_each}
