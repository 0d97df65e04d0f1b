"""Jobs honour the corrections: convert with every engine, a job's named set over the global
one, the documents' record of what they applied, and results that a changed correction makes
stale. The queued path with a real worker is in tests/fleet/test_corrections_live.py."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from braillejobs import jobs
from braillejobs.cli import main
from braillejobs.corrections import active, store
from braillejobs.formats import to_brf
from braillejobs.translate.louis_engine import LouisEngine

SPELLED = "⠅⠝⠪⠇⠫⠛⠑"             # "knowledge" letter by letter, not the wordsign ⠅
PARAGRAPHS = ["Knowledge is power.", "KNOWLEDGE!", "(knowledge), said the self-knowledge book",
              "And so the knowledge grew"]
USES = 5                             # the word standing alone, in every form above


@pytest.fixture
def source(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "doc.txt").write_text("\n\n".join(PARAGRAPHS) + "\n")
    return folder


def convert(source, out, *args: str):
    result = CliRunner().invoke(main, ["convert", str(source), "-o", str(out),
                                       "--format", "unicode", *args])
    assert result.exit_code == 0, result.output
    job_id = result.stderr.split("job ", 1)[1].split(":", 1)[0]
    return job_id, (out / "doc.txt").read_text(), result.stderr


@pytest.mark.parametrize("engine", ["louis", "cnn", "rnn", "auto"])
def test_convert_writes_the_corrections_with_every_engine_and_records_them(env, source,
                                                                         tmp_path, engine):
    store.add(store.propose("knowledge", SPELLED, table="en-ueb-g2.ctb"))
    job_id, text, _ = convert(source, tmp_path / "out", "--engine", engine)
    assert text.count(SPELLED) == USES, text
    if engine == "louis":    # exactly liblouis with the corrections table, paragraph by paragraph
        corrected = LouisEngine("en-ueb-g2.ctb", active.load("en-ueb-g2.ctb"))
        assert text == "".join(corrected.translate_text(p) + "\n\n"
                               for p in PARAGRAPHS)[:-1]
    assert "⠠⠠" + SPELLED in text and "⠐⠣" + SPELLED + "⠐⠜" in text
    assert jobs.corrections_used(job_id) == {"doc.txt": {"knowledge": USES}}
    shown = CliRunner().invoke(main, ["status", job_id])
    assert f"corrections applied: {USES} uses of 1 in 1 documents ('knowledge' {USES}x)" \
        in shown.output


def test_a_named_set_applies_over_the_global_one_and_stale_results_are_not_reused(
        env, source, tmp_path):
    first, plain, _ = convert(source, tmp_path / "1")
    assert SPELLED not in plain and jobs.corrections_used(first) == {}
    _, again, log = convert(source, tmp_path / "2")
    assert again == plain and "(1 reused)" in log          # same source, same options

    store.add(store.propose("knowledge", SPELLED, table="en-ueb-g2.ctb"))
    _, corrected, log = convert(source, tmp_path / "3")
    assert "(0 reused)" in log and corrected.count(SPELLED) == USES
    _, same, log = convert(source, tmp_path / "4")
    assert same == corrected and "(1 reused)" in log       # the corrections unchanged

    and_so = "⠁⠝⠙⠀⠎⠕"
    store.add(store.propose("and so", and_so, table="en-ueb-g2.ctb", set_name="school"))
    named, with_set, log = convert(source, tmp_path / "5", "--corrections", "school")
    assert "(0 reused)" in log
    assert with_set.count(SPELLED) == USES and "⠠" + and_so in with_set
    assert jobs.corrections_used(named) == {"doc.txt": {"knowledge": USES, "and so": 1}}
    shown = CliRunner().invoke(main, ["status", named])
    assert "+school  " in shown.output
    # the set is the job's: a job without it does not apply it
    _, without, log = convert(source, tmp_path / "6")
    assert without == corrected and "(1 reused)" in log

    store.remove(["knowledge"])
    store.remove(["and so"], set_name="school")
    _, restored, log = convert(source, tmp_path / "7")
    assert restored == plain and "(1 reused)" in log        # the first result, again


def test_a_job_naming_a_set_with_no_corrections_is_refused(env, source, tmp_path):
    result = CliRunner().invoke(main, ["convert", str(source), "-o", str(tmp_path / "o"),
                                       "--corrections", "shcool"])
    assert result.exit_code == 1
    assert "the corrections set 'shcool' holds no correction for en-ueb-g2.ctb" in result.output
    bad = CliRunner().invoke(main, ["convert", str(source), "-o", str(tmp_path / "o"),
                                    "--corrections", "no/such"])
    assert bad.exit_code == 1 and "is not a set name" in bad.output
    assert "Traceback" not in result.output + bad.output


def test_a_long_word_divided_across_lines_keeps_its_correction(env, tmp_path):
    """The layout divides a word too long for the line on liblouis's signs; with corrections,
    that reference is liblouis with the corrections table, or the line would lose them."""
    from braillejobs.formats.divide import dividers_for

    store.add(store.propose("knowledge", SPELLED, table="en-ueb-g2.ctb"))
    corrections = active.load("en-ueb-g2.ctb")
    line = "(knowledge),"
    cells = LouisEngine("en-ueb-g2.ctb", corrections).translate_text(line)
    assert SPELLED in cells and len(cells) > 8
    braille = [cells]
    dividers, replaced = dividers_for([line], None, braille, {0: 8}, corrections.tables)
    assert replaced == [] and braille == [cells] and 0 in dividers
    # the base table alone would have put the uncorrected braille back
    braille = [cells]
    _, replaced = dividers_for([line], None, braille, {0: 8}, "en-ueb-g2.ctb")
    assert replaced == [0] and SPELLED not in braille[0]

    # and through a whole conversion: 10 cells a line divides it, the correction stays
    folder = tmp_path / "narrow"
    folder.mkdir()
    (folder / "n.txt").write_text(line + "\n")
    result = CliRunner().invoke(main, ["convert", str(folder), "-o", str(tmp_path / "o"),
                                       "--format", "brf", "--cells-per-line", "10"])
    assert result.exit_code == 0, result.output
    brf = (tmp_path / "o" / "n.brf").read_bytes().decode("ascii")
    assert to_brf(SPELLED) in brf and to_brf("⠐⠣⠅⠐⠜") not in brf.replace("\r\n", "")


@pytest.mark.parametrize("engine", ["louis", "cnn", "rnn", "auto"])
def test_corrections_apply_inside_emphasis(env, tmp_path, engine):
    """An italic word, a bold word in capitals and a word in an italic passage: corrected, with
    the emphasis indicators where they were."""
    folder = tmp_path / "em"
    folder.mkdir()
    (folder / "e.md").write_text("The *knowledge* is power, and **KNOWLEDGE** too.\n\n"
                                 "A _whole knowledge passage here_ now.\n")
    store.add(store.propose("knowledge", SPELLED, table="en-ueb-g2.ctb"))
    result = CliRunner().invoke(main, ["convert", str(folder), "-o", str(tmp_path / "o"),
                                       "--format", "unicode", "--engine", engine])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "o" / "e.txt").read_text()
    assert text == ("⠠⠮⠀⠨⠂" + SPELLED + "⠀⠊⠎⠀⠏⠪⠻⠂⠀⠯⠀⠘⠂⠠⠠" + SPELLED + "⠀⠞⠕⠕⠲\n\n"
                    "⠠⠁⠀⠨⠶⠱⠕⠇⠑⠀" + SPELLED + "⠀⠏⠁⠎⠎⠁⠛⠑⠀⠐⠓⠨⠄⠀⠝⠪⠲\n")
