"""The default engine, ``best``: the neural chain where a CUDA device is present, liblouis on a
CPU-only host; decided once per process at the device probe, logged once, recorded on documents
as the engine that ran, and overridden by an explicit engine."""

from __future__ import annotations

import logging

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from braillejobs import config
from braillejobs.cli import main
from braillejobs.translate import device, registry
from tests.support import REPO, settings

G2 = "en-ueb-g2.ctb"


@pytest.fixture
def fresh(monkeypatch):
    """A process that has not yet decided; the probe answers what the test says."""
    registry.forget()
    answers = []

    def probe() -> bool:
        answers.append(True)
        return fake["cuda"]

    fake = {"cuda": False, "asked": answers}
    monkeypatch.setattr(device, "cuda_present", probe)
    yield fake
    registry.forget()


def test_best_is_the_product_default():
    assert config.setting("engine").default == "best"


def test_without_cuda_best_is_liblouis(fresh, caplog):
    with settings(device="auto"), caplog.at_level(logging.INFO, "braillejobs.engine"):
        assert registry.resolve("best") == "louis"
        engine = registry.get_engine("best", G2)
        assert engine.name == "louis"
        assert registry.resolve("best") == "louis"
    lines = [r.getMessage() for r in caplog.records if r.name == "braillejobs.engine"]
    assert len(lines) == 1 and "louis" in lines[0] and "no CUDA device" in lines[0]
    assert len(fresh["asked"]) == 1            # decided once per process


def test_with_cuda_best_is_the_neural_chain(fresh, caplog):
    fresh["cuda"] = True
    with settings(device="auto"), caplog.at_level(logging.INFO, "braillejobs.engine"):
        assert registry.resolve("best") == "auto"
        fresh["cuda"] = False                  # the decision holds for the process
        assert registry.resolve("best") == "auto"
    assert len(fresh["asked"]) == 1
    assert any("CUDA device is present" in r.getMessage() for r in caplog.records)


def test_device_setting_cpu_means_liblouis_even_with_cuda(fresh):
    fresh["cuda"] = True
    with settings(device="cpu"):
        assert registry.resolve("best") == "louis"
    assert fresh["asked"] == []


@pytest.mark.parametrize("name", ["louis", "cnn", "rnn", "auto"])
def test_explicit_engines_are_never_resolved(fresh, name):
    fresh["cuda"] = True
    assert registry.resolve(name) == name
    assert fresh["asked"] == []


def test_documents_record_the_engine_that_ran(env, fresh, tmp_path):
    """A default job converted here (no CUDA) records liblouis on every document and counts
    its characters under liblouis; an explicit --engine wins over the setting."""
    from braillejobs.db.models import Document
    from braillejobs.db.session import session_factory

    out = tmp_path / "out"
    src = REPO / "examples" / "bread-recipe.txt"
    with settings(engine="best"):
        res = CliRunner().invoke(main, ["convert", str(src), "-o", str(out)])
    assert res.exit_code == 0, res.output
    with settings(engine="cnn"):
        res = CliRunner().invoke(main, ["convert", str(src), "-o", str(tmp_path / "o2"),
                                        "--engine", "best", "--format", "unicode"])
    assert res.exit_code == 0, res.output
    with session_factory()() as s:
        rows = s.execute(select(Document.engine, Document.chars_by_engine)).all()
    assert len(rows) == 2
    for engine, by_engine in rows:
        assert engine == "louis"
        assert set(by_engine) == {"louis"} and by_engine["louis"] > 0
