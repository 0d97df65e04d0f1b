"""GPU metrics of a worker: the memory its tensors hold (torch, read at scrape time, never
initialising CUDA), and the devices' utilisation and memory (NVML).

The torch test needs a CUDA device and the first NVML test an NVIDIA driver; elsewhere they are
skipped with that reason. Only where no real NVML exists does a test feed the collector a
stand-in module object with NVML's functions (a CPU host such as CI's); where NVML exists that
test is skipped and the real devices are read instead.
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


# ------------------------------------------------------------------------------------- NVML
def _real_nvml():
    """The pynvml module when NVML really works here (an NVIDIA driver), else None."""
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:
        return None
    return pynvml


def _samples(collector) -> dict[str, dict[str, float]]:
    return {family.name: {s.labels["gpu"]: s.value for s in family.samples}
            for family in collector.collect()}


def test_nvml_collector_reads_every_gpu_of_the_host():
    nvml = _real_nvml()
    if nvml is None:
        pytest.skip("no NVML here (no NVIDIA driver): the fake-module test below runs instead")
    from braillejobs import metrics

    got = _samples(metrics.NvmlCollector(nvml))
    count = nvml.nvmlDeviceGetCount()
    assert len(got["braillejobs_gpu_memory_total_bytes"]) == count > 0
    for gpu, total in got["braillejobs_gpu_memory_total_bytes"].items():
        handle = nvml.nvmlDeviceGetHandleByIndex(int(gpu))
        assert total == nvml.nvmlDeviceGetMemoryInfo(handle).total
        assert 0 <= got["braillejobs_gpu_memory_used_bytes"][gpu] <= total
    for ratio in got["braillejobs_gpu_utilization_ratio"].values():
        assert 0.0 <= ratio <= 1.0


def test_without_nvml_the_families_are_served_empty():
    if _real_nvml() is not None:
        pytest.skip("NVML works here: the test above reads the real GPUs")
    pytest.importorskip("pynvml")
    from braillejobs import metrics

    # the real nvidia-ml-py package, on a host without the driver's library
    collector = metrics.NvmlCollector()
    assert _samples(collector) == {f.name: {} for f in metrics.NvmlCollector.families}
    assert _samples(collector) == {f.name: {} for f in metrics.NvmlCollector.families}


class _FakeNvml:
    """A stand-in for the pynvml module with two GPUs, the second without a utilisation counter
    (as a MIG instance). Used only where no real NVML exists, to show what the collector makes
    of NVML's answers; on a GPU host the test above reads the real devices instead."""

    class NVMLError(Exception):
        pass

    def __init__(self):
        self.inits = 0

    def nvmlInit(self):  # noqa: N802 (NVML's names)
        self.inits += 1

    def nvmlDeviceGetCount(self):  # noqa: N802
        return 2

    def nvmlDeviceGetHandleByIndex(self, index):  # noqa: N802
        return ("handle", index)

    def nvmlDeviceGetUtilizationRates(self, handle):  # noqa: N802
        if handle[1] == 1:
            raise self.NVMLError("Not Supported")
        return type("Utilization", (), {"gpu": 37, "memory": 12})()

    def nvmlDeviceGetMemoryInfo(self, handle):  # noqa: N802
        used = (3 << 30) if handle[1] == 0 else (1 << 30)
        return type("Memory", (), {"used": used, "total": 80 << 30, "free": 0})()


def test_nvml_answers_become_ratios_and_bytes_by_gpu_index():
    if _real_nvml() is not None:
        pytest.skip("NVML works here: the real devices are tested above, no stand-in")
    from braillejobs import metrics

    fake = _FakeNvml()
    collector = metrics.NvmlCollector(fake)
    got = _samples(collector)
    assert got == {
        "braillejobs_gpu_utilization_ratio": {"0": 0.37},
        "braillejobs_gpu_memory_used_bytes": {"0": 3 << 30, "1": 1 << 30},
        "braillejobs_gpu_memory_total_bytes": {"0": 80 << 30, "1": 80 << 30},
    }
    _samples(collector)
    assert fake.inits == 1  # initialised once, at the first scrape
