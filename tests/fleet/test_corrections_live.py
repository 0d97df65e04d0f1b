"""The transcribers' corrections on the queued path: `submit` to a real worker writes them,
in every form, for the global set and a job's named set; each document records what it
applied and the worker counts it; removing a correction restores the old braille."""

from __future__ import annotations

import json

import pytest

from braillejobs.formats import to_brf
from tests.fleet.support import sample

pytestmark = pytest.mark.redis

SPELLED = "⠅⠝⠪⠇⠫⠛⠑"              # "knowledge" letter by letter, not the wordsign ⠅
TEXT = ("Knowledge is power. KNOWLEDGE! (knowledge), said the self-knowledge book.\n\n"
        "And so the knowledge grew.\n")


@pytest.fixture(scope="module")
def worker(fleet):
    return fleet.start_worker()


def used(fleet, job: str) -> dict:
    rows = fleet.db("SELECT corrections_used FROM documents WHERE job_id = ?", (job,))
    return (json.loads(rows[0][0]) if rows and rows[0][0] else None) or {}


def braille(fleet, job: str, out) -> str:
    fleet.run("fetch", job, "-o", str(out))
    return next(out.iterdir()).read_bytes().decode("ascii")


def test_submit_to_a_worker_writes_the_corrections(fleet, worker, tmp_path):
    folder = fleet.write_documents("corrections", [TEXT])
    plain_job = fleet.submit(folder)
    assert fleet.wait_job(plain_job) == {"done": 1}
    plain = braille(fleet, plain_job, tmp_path / "plain")
    spelled = to_brf(SPELLED)
    assert spelled not in plain and used(fleet, plain_job) == {}

    fleet.run("corrections", "add", "knowledge", spelled)       # BRF ASCII is accepted too
    fleet.run("corrections", "add", "and so", "⠁⠝⠙⠀⠎⠕", "--set", "school")
    before = worker.metrics()
    job = fleet.submit(folder, "--corrections", "school")
    assert fleet.wait_job(job) == {"done": 1}
    corrected = braille(fleet, job, tmp_path / "corrected")
    flat = corrected.replace("\r\n", " ")
    # lower case, capitalised, all capitals, next to punctuation, in a compound
    assert corrected.count(spelled) == 5, corrected
    assert "," + spelled in flat and ",," + spelled in flat and '"<' + spelled + '">' in flat
    assert "," + to_brf("⠁⠝⠙⠀⠎⠕") in flat                    # the named set's phrase
    assert used(fleet, job) == {"knowledge": 5, "and so": 1}
    after = worker.metrics()
    assert sample(after, "braillejobs_corrections_applied_total") - \
        sample(before, "braillejobs_corrections_applied_total") == 6
    shown = fleet.run("status", job).stdout
    assert "corrections applied: 6 uses of 2 in 1 documents" in shown

    # the global set applies to every job; the named set only to jobs naming it
    global_job = fleet.submit(folder)
    assert fleet.wait_job(global_job) == {"done": 1}
    assert used(fleet, global_job) == {"knowledge": 5}

    fleet.run("corrections", "remove", "knowledge")
    restored_job = fleet.submit(folder)
    assert fleet.wait_job(restored_job) == {"done": 1}
    assert braille(fleet, restored_job, tmp_path / "restored") == plain
    assert used(fleet, restored_job) == {}
