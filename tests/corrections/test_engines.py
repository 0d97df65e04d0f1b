"""Every engine honours the corrections: liblouis through the corrections table, the neural
engines by handing the corrected words to it (the splice they use for liblouis's chunks).
With the shipped models, on the CPU."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from braillejobs.cli import main
from braillejobs.corrections import active, store
from braillejobs.translate.registry import get_engine
from tests.support import settings

SPELLED = "⠅⠝⠪⠇⠫⠛⠑"
LINES = ["knowledge", "Knowledge is power.", "KNOWLEDGE", "(knowledge), he said",
         "self-knowledge", "knowledgeable people", "the knowledge's worth"]


@pytest.fixture
def corrections(tmp_path):
    with settings(database_url=f"sqlite:///{tmp_path / 'bj.db'}", data_dir=tmp_path / "data"):
        store.add(store.propose("knowledge", SPELLED, table="en-ueb-g2.ctb"))
        yield active.load("en-ueb-g2.ctb")


def braille(engine, lines):
    return [r.braille for r in engine.translate_lines(lines)]


@pytest.mark.parametrize("name", ["louis", "cnn", "rnn", "auto"])
def test_every_engine_writes_the_corrected_braille_and_nothing_else_changes(corrections, name):
    reference = braille(get_engine("louis", "en-ueb-g2.ctb"), LINES)
    plain = braille(get_engine(name, "en-ueb-g2.ctb"), LINES)
    corrected = get_engine(name, "en-ueb-g2.ctb", corrections)
    out = braille(corrected, LINES)
    for line, right, before, after in zip(LINES, reference, plain, out):
        if "knowledgeable" in line:
            assert after == before, line             # not the word: untouched
            continue
        assert SPELLED in after, (line, after)
        if before == right:    # where the engine alone writes the line right (the BiLSTM
            # alone does not always): the wordsign ⠅ became the spelled word, and every other
            # cell is as before
            assert after.replace(SPELLED, "⠅") == before, (line, before, after)
    # indicators as liblouis writes them for each form
    assert out[0] == SPELLED and out[1].startswith("⠠" + SPELLED) and out[2] == "⠠⠠" + SPELLED
    # the corrected words are counted as liblouis's
    if name != "louis":
        counts = corrected.translate_lines(["knowledge"])[0].chars_by_engine
        assert counts == {"louis": 9}


def test_translate_applies_the_global_set_and_a_named_set_over_it(tmp_path):
    with settings(database_url=f"sqlite:///{tmp_path / 'bj.db'}", data_dir=tmp_path / "data"):
        runner = CliRunner()

        def translate(*args: str) -> str:
            result = runner.invoke(main, ["translate", "--engine", "louis", *args],
                                   input="Knowledge and so\n")
            assert result.exit_code == 0, result.output
            return result.stdout.strip()

        before = translate()
        assert before == "⠠⠅⠀⠯⠀⠎"
        runner.invoke(main, ["corrections", "add", "knowledge", SPELLED])
        runner.invoke(main, ["corrections", "add", "and so", "⠁⠝⠙⠀⠎⠕", "--set", "school"])
        assert translate() == "⠠" + SPELLED + "⠀⠯⠀⠎"
        assert translate("--corrections", "school") == "⠠" + SPELLED + "⠀⠁⠝⠙⠀⠎⠕"
        assert translate("--no-corrections") == before
        runner.invoke(main, ["corrections", "remove", "knowledge"])
        assert translate() == before                   # removing it restores the old output
