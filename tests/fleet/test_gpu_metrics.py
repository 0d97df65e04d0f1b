"""GPU memory in a worker's /metrics: read from torch at scrape time, never initialising CUDA.

Needs a CUDA device; elsewhere it is skipped with that reason.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import socket, urllib.request
    import torch
    from prometheus_client.parser import text_string_to_metric_families
    from braillejobs import metrics

    def scrape(port):
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
        out = {}
        for fam in text_string_to_metric_families(text.decode()):
            for s in fam.samples:
                out[(s.name, s.labels.get("device"))] = s.value
        return out

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
    metrics.start_worker_server(port, addr="127.0.0.1")
    first = scrape(port)
    assert not any(k[0].startswith("braillejobs_worker_gpu") for k in first), first
    assert not torch.cuda.is_initialized(), "a scrape initialised CUDA"
    block = torch.empty(256 * 1024 * 1024, dtype=torch.uint8, device="cuda:0")
    second = scrape(port)
    used = second[("braillejobs_worker_gpu_memory_used_bytes", "cuda:0")]
    total = second[("braillejobs_worker_gpu_memory_total_bytes", "cuda:0")]
    assert used >= block.numel(), used
    assert total == torch.cuda.get_device_properties(0).total_memory, total
    del block
    print("gpu metrics ok", int(used), int(total), torch.cuda.get_device_name(0))
""")


def test_worker_reports_gpu_memory_only_once_cuda_is_in_use():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "gpu metrics ok" in result.stdout
