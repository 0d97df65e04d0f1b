"""Write deploy/k8s/prometheus-operator/prometheusrule.yaml from deploy/alert-rules.yml.

    python scripts/prometheus_operator_rules.py          # rewrite the file
    python scripts/prometheus_operator_rules.py --check  # exit 1 if it is out of date

The rules are written once, in deploy/alert-rules.yml (Prometheus's own format, which promtool
checks and tests); the Prometheus Operator's PrometheusRule carries the same groups.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "deploy" / "alert-rules.yml"
OUT = ROOT / "deploy" / "k8s" / "prometheus-operator" / "prometheusrule.yaml"

HEADER = """\
# Generated from deploy/alert-rules.yml by scripts/prometheus_operator_rules.py: edit the rules
# there, then run the script. For clusters with the Prometheus Operator.
"""


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (PromQL) as literal blocks, as they are written in the rules file."""


def _string(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _string)


def render() -> str:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    doc = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "braillejobs", "namespace": "braillejobs",
                     "labels": {"app.kubernetes.io/part-of": "braillejobs"}},
        "spec": {"groups": groups},
    }
    return HEADER + yaml.dump(doc, Dumper=_Dumper, sort_keys=False, width=100)


def main() -> None:
    text = render()
    if "--check" in sys.argv[1:]:
        if not OUT.exists() or OUT.read_text() != text:
            sys.exit(f"{OUT.relative_to(ROOT)} is out of date: run python "
                     "scripts/prometheus_operator_rules.py")
        return
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
