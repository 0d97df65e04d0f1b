"""The corrections store and its commands, on SQLite and PostgreSQL, with liblouis's real
back-translation as the check."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from braillejobs.cli import main
from braillejobs.corrections import CorrectionError
from braillejobs.corrections.braille import read_braille
from tests.support import settings

# 'knowledge' spelled out letter by letter where liblouis writes the wordsign ⠅: a ruling a
# transcriber could make, and one that liblouis reads back as the same word.
SPELLED = "⠅⠝⠪⠇⠫⠛⠑"


@pytest.fixture
def cli(db_url, tmp_path):
    with settings(database_url=db_url, data_dir=tmp_path / "data"):
        runner = CliRunner()

        def run(*args: str, code: int = 0):
            result = runner.invoke(main, ["corrections", *args])
            assert result.exit_code == code, (args, result.output)
            return result

        run.listed = lambda *extra: json.loads(run("list", "--json", *extra).stdout)
        yield run
        for row in run.listed():
            run("remove", str(row["id"]))


def test_braille_is_read_from_unicode_or_brf():
    assert read_braille("KN[L$GE") == SPELLED == read_braille("kn[l$ge")
    assert read_braille(f"  {SPELLED}  ") == SPELLED
    assert read_braille(",K  IS") == "⠠⠅⠀⠊⠎" == read_braille("⠠⠅ ⠊⠎") == read_braille("⠠⠅⠀⠀⠊⠎")
    for bad, why in [("", "empty"), ("⠀ ", "empty"), ("⠅é", "mixes"), ("⣿", "dots 7-8"),
                     ("dare€", "not braille")]:
        with pytest.raises(CorrectionError, match=why):
            read_braille(bad)


def test_add_list_remove(cli):
    added = cli("add", "knowledge", "KN[L$GE", "--note", "rule 10.9 test", "--author", "ana")
    assert "added correction" in added.stdout and SPELLED in added.stdout
    [row] = cli.listed()
    assert row["print"] == "knowledge" and row["braille"] == SPELLED and row["brf"] == "KN[L$GE"
    assert (row["table"], row["set"], row["origin"]) == ("en-ueb-g2.ctb", "global", "typed")
    assert (row["note"], row["author"]) == ("rule 10.9 test", "ana")
    assert row["created_at"].endswith("+00:00")
    # the same again changes nothing; other braille for it is refused without --replace
    assert "unchanged" in cli("add", "knowledge", SPELLED).stdout
    assert "note updated on correction" in cli("add", "knowledge", SPELLED, "--note",
                                               "rule 10.9.3").stdout
    assert cli.listed()[0]["note"] == "rule 10.9.3"
    refused = cli("add", "knowledge", "⠅", code=1)
    assert "already has a correction" in refused.output and "--replace" in refused.output
    assert "replaced" in cli("add", "knowledge", "⠅", "--replace").stdout
    assert [r["braille"] for r in cli.listed()] == ["⠅"]
    # sets are apart; listing one set shows only it
    cli("add", "knowledge", SPELLED, "--set", "library-a")
    assert [r["set"] for r in cli.listed()] == ["global", "library-a"]
    assert [r["braille"] for r in cli.listed("--set", "library-a")] == [SPELLED]
    table = cli("list").stdout
    assert "library-a" in table and "KN[L$GE" in table and " UTC" in table
    # remove: by print text in a set, by id; unknown keys remove nothing
    missing = cli("remove", "knowledge", "nosuch", code=1)
    assert "no correction 'nosuch'" in missing.output and "nothing was removed" in missing.output
    assert len(cli.listed()) == 2
    cli("remove", "knowledge", "--set", "library-a")
    assert [r["set"] for r in cli.listed()] == ["global"]


def test_braille_liblouis_does_not_read_back_is_refused_unless_forced(cli):
    wrong = cli("add", "knowledge", "⠅⠝⠪⠇⠫⠛", code=1)      # the last letter missing
    assert "reads the braille back as 'knowledg'" in wrong.output and "--force" in wrong.output
    capitals = cli("add", "Knowledge", SPELLED, code=1)
    assert "give the print text in lower case ('knowledge')" in capitals.output
    indicators = cli("add", "knowledge", "⠠" + SPELLED, code=1)
    assert "reads the braille back as 'Knowledge': it carries capital indicators" in \
        indicators.output
    assert cli.listed() == []
    cli("add", "knowledge", "⠅⠝⠪⠇⠫⠛", "--force")
    assert [r["braille"] for r in cli.listed()] == ["⠅⠝⠪⠇⠫⠛"]
    for args, why in [(["", SPELLED], "print text is empty"),
                      (["a\nb", SPELLED], "one line"),
                      (["x" * 201, "⠭"], "at most 200"),
                      (["knowledge", SPELLED, "--set", "no spaces"], "not a set name")]:
        assert why in cli("add", *args, code=1).output


def test_import_export_round_trip_in_both_formats(cli, tmp_path):
    rows = [{"print": "knowledge", "braille": "KN[L$GE", "note": "spelled"},
            {"print": "and", "brf": "&"},
            {"print": "knowledge is", "braille": "⠅ ⠊⠎", "set": "library-a"}]
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    assert "nothing stored" in cli("import", str(jsonl), "--dry-run").stdout
    assert cli.listed() == []
    assert "3 added, 0 replaced, 0 unchanged" in cli("import", str(jsonl)).stdout
    listed = cli.listed()
    assert [(r["set"], r["print"], r["braille"], r["origin"]) for r in listed] == [
        ("global", "and", "⠯", "imported"), ("global", "knowledge", SPELLED, "imported"),
        ("library-a", "knowledge is", "⠅⠀⠊⠎", "imported")]
    # export in both formats, and the exports import back unchanged
    for name in ("out.jsonl", "out.csv"):
        cli("export", str(tmp_path / name))
        assert "0 added, 0 replaced, 3 unchanged" in cli("import", str(tmp_path / name)).stdout
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as f:
        exported = list(csv.DictReader(f))
    assert [r["brf"] for r in exported] == ["&", "KN[L$GE", "K IS"]
    assert exported[1]["note"] == "spelled" and exported[0]["note"] == ""
    on_stdout = cli("export", "--set", "library-a").stdout.splitlines()
    assert [json.loads(x)["print"] for x in on_stdout] == ["knowledge is"]
    # a differing ruling is kept unless --replace
    change = tmp_path / "change.csv"
    change.write_text("print,braille\nknowledge,⠅\n", encoding="utf-8")
    assert "1 kept as they were" in cli("import", str(change)).stdout
    assert "1 replaced" in cli("import", str(change), "--replace").stdout


def test_a_bad_row_names_its_line_and_nothing_is_imported(cli, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"print": "and", "braille": "&"}) + "\n\n"
                   + json.dumps({"print": "knowledge", "braille": "⠅⠝"}) + "\n"
                   + "{not json\n" + json.dumps(["a list"]) + "\n")
    result = cli("import", str(bad), code=1)
    assert f"{bad}:3: liblouis" in result.output     # the blank line 2 is skipped, not counted
    assert f"{bad}:4: not JSON" in result.output
    assert f"{bad}:5: a correction is a JSON object" in result.output
    assert "3 of the file's corrections cannot be imported, so none was" in result.output
    assert cli.listed() == []
    twice = tmp_path / "twice.csv"
    twice.write_text("print,braille\nand,&\nand,&\n", encoding="utf-8")
    assert "more than once" in cli("import", str(twice), code=1).output
    headless = tmp_path / "headless.csv"
    headless.write_text("and,&\n", encoding="utf-8")
    assert "must name the columns" in cli("import", str(headless), code=1).output
    odd = tmp_path / "rules.txt"
    odd.write_text("and,&\n", encoding="utf-8")
    assert "--format jsonl|csv" in cli("import", str(odd), code=1).output
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("print,braille\ncaf\xe9,&\n".encode("latin-1"))
    assert "not UTF-8" in cli("import", str(latin1), code=1).output
    assert cli.listed() == []
