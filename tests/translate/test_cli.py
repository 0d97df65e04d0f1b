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


def test_evaluate_lists_the_lines_written_otherwise_than_the_reference(tmp_path):
    from braillejobs.translate.louis_engine import LouisEngine

    louis = LouisEngine("en-ueb-g2.ctb")
    texts = ["the cat sat", "Knowledge is power.", "It was 1984."]
    cases = [{"input": t, "expected": louis.translate_text(t), "table": "en-ueb-g2.ctb",
              "xfail": False, "source": "test"} for t in texts]
    cases[1]["expected"] = louis.translate_text("Knowledge is powder.")   # a rulebook liblouis fails
    book = tmp_path / "book.jsonl"
    book.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases),
                    encoding="utf-8")
    out = tmp_path / "report" / "wrong.jsonl"
    result = CliRunner().invoke(evaluate_cmd, ["--engine", "louis", "--data", str(book),
                                               "--wrong", str(out)])
    assert result.exit_code == 0, result.output
    assert f"{out}: 1 lines written otherwise than the rulebook" in result.output
    [wrong] = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert wrong["line"] == 2 and wrong["text"] == "Knowledge is power."
    assert wrong["output"] == wrong["liblouis"] == louis.translate_text("Knowledge is power.")
    assert wrong["reference"] == cases[1]["expected"] and wrong["engines"] == {"louis": 19}
    cell = wrong["first_difference"]["cell"]
    assert wrong["output"][:cell] == wrong["reference"][:cell]
    assert wrong["output"][cell] != wrong["reference"][cell]
    assert wrong["first_difference"]["output"] in wrong["output"]

    # text data: the reference is liblouis, so liblouis itself writes no line otherwise
    data = tmp_path / "lines.txt"
    data.write_text("\n".join(texts) + "\n", encoding="utf-8")
    result = CliRunner().invoke(evaluate_cmd, ["--engine", "louis", "--data", str(data),
                                               "--wrong", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == ""


def test_evaluate_wrong_names_an_unwritable_path_before_evaluating(tmp_path):
    data = tmp_path / "lines.txt"
    data.write_text("the cat\n", encoding="utf-8")
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = CliRunner().invoke(evaluate_cmd, ["--engine", "louis", "--data", str(data),
                                               "--wrong", str(blocker / "wrong.jsonl")])
    assert result.exit_code != 0
    assert f"cannot write {blocker / 'wrong.jsonl'}" in result.output
    assert "writable folder" in result.output
    result = CliRunner().invoke(evaluate_cmd, ["--data", str(data), "--wrong", "w.jsonl",
                                               "--calibrate", "c.json"])
    assert result.exit_code != 0 and "give one of them" in result.output


def test_evaluate_auto_at_given_thresholds(tmp_path):
    data = tmp_path / "lines.txt"
    data.write_text("\n".join(SAMPLE[:6]) + "\n", encoding="utf-8")

    def run(thresholds):
        result = CliRunner().invoke(evaluate_cmd, ["--engine", "auto", "--data", str(data),
                                                   "--thresholds", thresholds])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    # no word sure enough for the CNN, and no BiLSTM or familiar rule: liblouis writes everything
    everything = run("cnn=1.01,rnn=1.01,agree=1.01,familiar=1.01")
    # with the familiar rule on, the CNN keeps the handed words it writes as it was taught
    taught = run("cnn=1.01,rnn=1.01,agree=1.01,familiar=0")
    assert taught["share"]["cnn"] > 0 and taught["exact_lines"] == 1.0
    assert taught["routing"]["kept_as_familiar"] == taught["routing"]["familiar_right"] > 0
    assert everything["share"] == {"louis": 1.0} and everything["exact_lines"] == 1.0
    assert everything["thresholds"]["cnn"] == 1.01
    assert everything["routing"]["settled_by_rnn"] == 0
    # every word sure enough: the CNN writes everything, and the cached engine is untouched
    nothing = run("cnn=0")
    assert nothing["share"] == {"cnn": 1.0} and nothing["routing"]["handed_to_rnn"] == 0
    from braillejobs.translate.registry import get_engine
    assert get_engine("auto", "en-ueb-g2.ctb").thresholds["cnn"] > 0

    result = CliRunner().invoke(evaluate_cmd, ["--engine", "auto", "--data", str(data),
                                               "--thresholds", "cnn=0.9,louis=1"])
    assert result.exit_code != 0 and "'louis' is not a threshold" in result.output
    result = CliRunner().invoke(evaluate_cmd, ["--engine", "cnn", "--data", str(data),
                                               "--thresholds", "cnn=0.9"])
    assert result.exit_code != 0 and "--engine auto" in result.output


def test_evaluate_names_a_bad_rulebook_line_and_leaves_no_wrong_list(tmp_path):
    book = tmp_path / "book.jsonl"
    good = {"input": "the", "expected": "⠮", "table": "en-ueb-g2.ctb"}
    book.write_text(json.dumps(good, ensure_ascii=False) + "\n" + '{"input": "cat"\n',
                    encoding="utf-8")
    out = tmp_path / "wrong.jsonl"
    result = CliRunner().invoke(evaluate_cmd, ["--engine", "louis", "--data", str(book),
                                               "--wrong", str(out)])
    assert result.exit_code == 1, result.output
    assert f"{book}, line 2: not a rulebook case" in result.output
    assert '"expected"' in result.output   # the form a line must take
    assert not out.exists()               # an empty list would read as "nothing wrong"

    book.write_text(json.dumps({"input": "cat", "table": "en-ueb-g2.ctb"}) + "\n",
                    encoding="utf-8")
    result = CliRunner().invoke(evaluate_cmd, ["--engine", "louis", "--data", str(book)])
    assert result.exit_code == 1 and "line 1" in result.output
    assert "must all be strings" in result.output


def test_evaluate_says_when_there_is_nothing_to_score_or_the_text_is_not_utf8(tmp_path):
    empty, latin, book = tmp_path / "empty.txt", tmp_path / "latin.txt", tmp_path / "g1.jsonl"
    empty.write_text("", encoding="utf-8")
    latin.write_bytes("café au lait\n".encode("latin-1"))
    book.write_text(json.dumps({"input": "the", "expected": "⠞⠓⠑", "table": "en-ueb-g1.ctb"})
                    + "\n", encoding="utf-8")
    for data, says in ((empty, "holds no lines: nothing to score"),
                       (latin, "is not UTF-8 text"),
                       (book, "holds no one-line case for en-ueb-g2.ctb")):
        result = CliRunner().invoke(evaluate_cmd, ["--engine", "louis", "--data", str(data)])
        assert result.exit_code == 1, result.output
        assert f"{data}" in result.output and says in result.output
        assert "Traceback" not in result.output
    curve = tmp_path / "curve.json"        # a sweep over no lines would write a curve of zeros
    result = CliRunner().invoke(evaluate_cmd, ["--data", str(empty), "--calibrate", str(curve)])
    assert result.exit_code == 1 and "holds no lines" in result.output and not curve.exists()
