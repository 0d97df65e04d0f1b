"""A real worker and a real `braillejobs exporter`: the series they serve from the start, the
queue counted in documents, the latency histograms, workers up by hostname, and every query of
the Grafana dashboard checked against what they really serve."""

from __future__ import annotations

import math
import time
import urllib.request
from pathlib import Path

import pytest

from tests.fleet.support import sample

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[2]
# Labels that Prometheus adds to every series of a target (tests/deploy/test_files.py).
TARGET_LABELS = {"job", "instance", "braillejobs_component"}
PROMETHEUS_OWN = {"up"}
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "1h"}


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


# ------------------------------------------------------------------- the dashboard, served
def _panel_expressions() -> list[tuple[str, str]]:
    import json

    board = json.loads((ROOT / "deploy/grafana/dashboards/braillejobs.json").read_text())
    found = []
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for var, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(var, value)
            found.append((f"panel {panel['title']!r} {target['refId']}", expr))
    return found


def _parts(expr: str):
    """The selectors of ``expr`` (name, [(label, op, value)]) and its aggregations' ``by``
    labels with the metric names under each."""
    import promql_parser

    selectors, groupings = [], []

    def names_under(node) -> list[str]:
        inner = []

        def visit(n):
            if isinstance(n, promql_parser.VectorSelector):
                inner.append(n.name)

        promql_parser.walk(node, visit)
        return inner

    def visit(node):
        if isinstance(node, promql_parser.VectorSelector):
            matchers = [(m.name, str(m.op).rsplit(".", 1)[-1], m.value)
                        for m in node.matchers.matchers if m.name != "__name__"]
            selectors.append((node.name, matchers))
        elif isinstance(node, promql_parser.AggregateExpr) and node.modifier is not None:
            if str(node.modifier.type).endswith("By"):
                groupings.append((list(node.modifier.labels), names_under(node.expr)))

    promql_parser.walk(promql_parser.parse(expr), visit)
    return selectors, groupings


def test_every_dashboard_query_selects_series_the_fleet_really_serves(fleet, worker, exporter):
    from braillejobs import metrics

    # the GPU families have samples only on a host with a GPU (NVML, or CUDA in use): there
    # their declaration in the exposition is checked, and their labels against the catalogue
    gpu_only = {f.name: set(f.labels) for f in (*metrics.NvmlCollector.families,
                                                 *metrics.GpuMemoryCollector.families)}
    served = {**worker.metrics(), **exporter.metrics()}
    text = urllib.request.urlopen(f"http://127.0.0.1:{worker.port}/metrics").read().decode()
    by_name: dict[str, list[dict[str, str]]] = {}
    for name, labels in served:
        by_name.setdefault(name, []).append(dict(labels))

    expressions = _panel_expressions()
    assert len(expressions) >= 30
    problems, checked = [], 0
    for where, expr in expressions:
        selectors, groupings = _parts(expr)
        for name, matchers in selectors:
            if name in PROMETHEUS_OWN:
                continue
            wanted = {label for label, _op, _v in matchers} - TARGET_LABELS
            if name in gpu_only and name not in by_name:
                if f"# TYPE {name} gauge" not in text:
                    problems.append(f"{where}: {name} is not declared by the worker")
                elif not wanted <= gpu_only[name]:
                    problems.append(f"{where}: {name} has no label {sorted(wanted)}")
                continue
            series = by_name.get(name)
            if not series:
                problems.append(f"{where}: no sample named {name} in the scrapes")
                continue
            fits = [s for s in series if wanted <= set(s) and all(
                s.get(label) == value for label, op, value in matchers
                if op == "Equal" and label not in TARGET_LABELS)]
            if not fits:
                problems.append(f"{where}: no {name} sample with {matchers}")
            checked += 1
        for labels, names in groupings:
            for name in names:
                if name in PROMETHEUS_OWN or (name in gpu_only and name not in by_name):
                    continue
                have = set().union(*(set(s) for s in by_name.get(name, [{}])))
                missing = set(labels) - have - TARGET_LABELS
                if missing:
                    problems.append(f"{where}: {name} has no label {sorted(missing)} to group by")
    assert not problems, "\n".join(problems)
    assert checked >= 30
