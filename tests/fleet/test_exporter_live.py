"""A real worker and a real `braillejobs exporter`: the series they serve from the start, the
queue counted in documents, the latency histograms, workers up by hostname."""

from __future__ import annotations

import math
import time
import urllib.request

import pytest

from tests.fleet.support import sample

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def worker(fleet):
    fleet.env["BRAILLEJOBS_DOCUMENTS_PER_TASK"] = "3"
    return fleet.start_worker()


@pytest.fixture(scope="module")
def exporter(fleet, worker):
    return fleet.start_exporter()


def test_a_fresh_worker_serves_every_known_series_at_zero(fleet, worker):
    samples = worker.metrics()
    # a failure ratio is 0 on a healthy fleet, not "No data"
    assert samples[("braillejobs_documents_total", (("format", "brf"), ("status", "failed")))] \
        == 0
    assert ("braillejobs_documents_total", (("format", "brf"), ("status", "done"))) in samples
    assert ("braillejobs_characters_total", (("engine", "cnn"),)) in samples
    assert ("braillejobs_fallback_characters_total",
            (("from_engine", "cnn"), ("to_engine", "louis"))) in samples
    assert ("braillejobs_task_duration_seconds_count",
            (("queue", fleet.queue), ("status", "failure"))) in samples
    assert samples[("braillejobs_document_queue_wait_seconds_count", ())] == 0
    assert samples[("braillejobs_document_submit_to_done_seconds_count", ())] == 0
    # NVML's families are declared; this host has no NVIDIA driver, so they carry no sample
    text = urllib.request.urlopen(f"http://127.0.0.1:{worker.port}/metrics").read().decode()
    assert "# TYPE braillejobs_gpu_utilization_ratio gauge" in text


def test_the_exporter_counts_documents_consumers_pauses_and_latency(fleet, worker, exporter):
    before = worker.metrics()
    fleet.run("workers", "pause", fleet.queue)
    folder = fleet.write_documents("counted", [f"Document number {i}, a short one."
                                               for i in range(7)])
    job = fleet.submit(folder)  # 3 messages: 3 + 3 + 1 documents
    queued = exporter.until(lambda s: sample(s, "braillejobs_queue_paused", queue=fleet.queue)
                            == 1 and sample(s, "braillejobs_queue_length", queue=fleet.queue) == 3)
    assert sample(queued, "braillejobs_queue_documents", queue=fleet.queue) == 7
    assert sample(queued, "braillejobs_queue_consumers", queue=fleet.queue) == 0
    assert sample(queued, "braillejobs_worker_up", hostname=worker.name) == 1
    assert sample(queued, "braillejobs_workers_online") >= 1
    assert sample(queued, "braillejobs_oldest_queued_document_age_seconds") > 0
    submitted = fleet.db("SELECT COUNT(*) FROM documents")[0][0]
    assert sample(queued, "braillejobs_submitted_documents_total", mode="queued") == submitted
    assert sample(queued, "braillejobs_submitted_documents_total", mode="embedded") == 0
    assert sample(queued, "braillejobs_database_size_bytes") >= \
        fleet.db_path.stat().st_size > 0
    assert ("braillejobs_unacked_messages", ()) in queued
    for source in ("broker", "database"):
        assert sample(queued, "braillejobs_exporter_source_up", source=source) == 1
    # the exporter's own process metrics
    assert sample(queued, "process_resident_memory_bytes") > 0
    assert any(name == "braillejobs_build_info" for name, _l in queued)

    time.sleep(1.0)  # every document waits at least this long in the queue
    fleet.run("workers", "resume", fleet.queue)
    assert fleet.wait_job(job) == {"done": 7}
    after = worker.metrics()

    def delta(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta("braillejobs_document_queue_wait_seconds_count") == 7
    assert delta("braillejobs_document_submit_to_done_seconds_count") == 7
    assert delta("braillejobs_document_queue_wait_seconds_sum") >= 7 * 1.0
    assert delta("braillejobs_document_submit_to_done_seconds_sum") >= \
        delta("braillejobs_document_queue_wait_seconds_sum")
    assert delta("braillejobs_documents_total", status="done", format="brf") == 7

    drained = exporter.until(lambda s: sample(s, "braillejobs_queue_length",
                                              queue=fleet.queue) == 0 and
                             sample(s, "braillejobs_queue_paused", queue=fleet.queue) == 0)
    assert sample(drained, "braillejobs_queue_documents", queue=fleet.queue) == 0
    assert sample(drained, "braillejobs_queue_consumers", queue=fleet.queue) == 1
    assert sample(drained, "braillejobs_oldest_queued_document_age_seconds") == 0
    assert sample(drained, "braillejobs_stored_documents", status="done") >= 7


def test_a_worker_that_stops_answering_is_down_by_its_hostname(fleet, worker, exporter):
    late = fleet.start_worker()
    exporter.until(lambda s: sample(s, "braillejobs_worker_up", hostname=late.name) == 1)
    late.proc.terminate()
    assert late.proc.wait(timeout=30) == 0
    gone = exporter.until(
        lambda s: ("braillejobs_worker_up", (("hostname", late.name),)) in s
        and sample(s, "braillejobs_worker_up", hostname=late.name) == 0)
    assert sample(gone, "braillejobs_worker_up", hostname=worker.name) == 1
    assert not math.isnan(sample(gone, "braillejobs_workers_online"))
