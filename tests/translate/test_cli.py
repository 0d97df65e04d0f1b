"""The translator's commands: corpus build, evaluate, and their errors."""

from __future__ import annotations

import json

from click.testing import CliRunner

from braillejobs.cli.model import corpus_group, evaluate_cmd, train_cmd

from .conftest import SAMPLE


def test_corpus_build_from_own_documents_is_deterministic(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("\n\n".join(SAMPLE) + "\n", encoding="utf-8")
    runner = CliRunner()
    digests = []
    for name in ("one", "two"):
        result = runner.invoke(corpus_group, ["build", "-o", str(tmp_path / name), "--sources",
                                              "none", "--from", str(docs), "--synthetic-share",
                                              "0.9", "--seed", "4"])
        assert result.exit_code == 0, result.output
        manifest = json.loads((tmp_path / name / "manifest.json").read_text())
        assert set(manifest["stats"]) == {"user:docs", "generated"}
        assert manifest["stats"]["user:docs"]["lines"] == len(SAMPLE)
        digests.append(manifest["sha256"])
    assert digests[0] == digests[1]
    train = (tmp_path / "one" / "train.txt").read_text(encoding="utf-8").splitlines()
    held = (tmp_path / "one" / "heldout.txt").read_text(encoding="utf-8").splitlines()
    assert not set(train) & set(held)             # the held-out split is never trained on
    stats = manifest["stats"]                     # 90 % of the characters are generated
    assert stats["generated"]["chars"] >= 8 * stats["user:docs"]["chars"]
    assert sum(map(len, train + held)) == manifest["chars"]


def test_corpus_build_refuses_unknown_sources(tmp_path):
    result = CliRunner().invoke(corpus_group, ["build", "-o", str(tmp_path / "c"), "--sources",
                                               "gcide,novels"])
    assert result.exit_code != 0
    assert "unknown source novels" in result.output and "wordnet" in result.output


def test_corpus_build_needs_some_text(tmp_path):
    result = CliRunner().invoke(corpus_group, ["build", "-o", str(tmp_path / "c"), "--sources",
                                               "none"])
    assert result.exit_code != 0 and "--from DIR" in result.output


def test_evaluate_prints_figures(tmp_path):
    data = tmp_path / "lines.txt"
    data.write_text("\n".join(SAMPLE[:6]) + "\n", encoding="utf-8")
    result = CliRunner().invoke(evaluate_cmd, ["--engine", "louis", "--data", str(data)])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["lines"] == 6 and figures["exact_lines"] == 1.0
    assert figures["cell_error_rate"] == 0.0 and figures["share"] == {"louis": 1.0}
    result = CliRunner().invoke(evaluate_cmd, ["--engine", "cnn", "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["exact_lines"] >= 5 / 6


def test_train_without_a_corpus_says_what_to_do(tmp_path):
    result = CliRunner().invoke(train_cmd, ["--corpus", str(tmp_path / "missing")])
    assert result.exit_code != 0 and "does not exist" in result.output
