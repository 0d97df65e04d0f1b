"""`braillejobs corrections learn`: a transcriber's edited braille file proposes the words they
changed, page furniture and reflowed lines aside, and the accepted ones become corrections."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from braillejobs.cli import main
from braillejobs.corrections import store
from braillejobs.corrections.learn import rows_of, words_of
from tests.support import REPO

SOURCE = REPO / "examples" / "lighthouse-history.md"
# three edits as a transcriber makes them: a capitalised word in the heading, a word before a
# full stop, a word next to a comma; each spelled out where liblouis contracted it
EDITS = [(",KEEP]S (", ",KEEPERS ("), ("CLE> NI<T", "CLEAR NI<T"), ("SD1", "SAID1")]
EXPECTED = [("keepers", "⠅⠑⠑⠏⠑⠗⠎"), ("clear", "⠉⠇⠑⠁⠗"), ("said", "⠎⠁⠊⠙")]


def run(*args: str, ok: bool = True):
    result = CliRunner().invoke(main, list(args))
    if ok:
        assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def job(env, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "lighthouse.md").write_bytes(SOURCE.read_bytes())
    out = run("convert", str(folder), "-o", str(tmp_path / "out"), "--format", "brf",
              "--engine", "louis")
    job_id = out.stderr.split("job ", 1)[1].split(":", 1)[0]
    return job_id, (tmp_path / "out" / "lighthouse.brf").read_bytes().decode("ascii")


def edited(brf: str, edits=EDITS) -> str:
    for old, new in edits:
        assert brf.count(old) >= 1, old
        brf = brf.replace(old, new, 1)
    return brf


def reflowed(brf: str, width: int = 30) -> str:
    """The same braille as another tool might lay it out: no page numbers, other line ends."""
    words: list[str] = []
    for page in brf.split("\f"):
        rows = [re.sub(r" {3,}#[A-J]+$", "", row) for row in page.split("\r\n")]
        words += " ".join(rows).split()
    lines, line = [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\r\n".join(lines + [line]) + "\r\n"


def proposals(job_id: str, path, *extra: str) -> list[dict]:
    result = run("corrections", "learn", job_id, str(path), "--json", *extra)
    return json.loads(result.stdout)["proposals"]


def test_an_edited_file_proposes_exactly_its_three_edits(job, tmp_path):
    job_id, brf = job
    assert brf.count("\f") >= 1                       # several pages, with page numbers
    same = tmp_path / "same.brf"
    same.write_text(brf)
    assert proposals(job_id, same) == []              # nothing edited: nothing proposed
    for name, text in (("edited.brf", edited(brf)), ("reflowed.brf", reflowed(edited(brf))),
                       ("unicode.txt", None)):
        path = tmp_path / name
        if text is None:                              # the same edits as Unicode braille
            from braillejobs.formats.brf import from_brf
            text = "\n".join(from_brf(row) for row in edited(brf).split("\r\n"))
        path.write_text(text, encoding="utf-8")
        found = proposals(job_id, path)
        assert [(p["print"], p["edited"]) for p in found] == EXPECTED, name
        assert all(p["refused"] is None and len(p["places"]) == 1 for p in found)
        assert found[2]["written"] == "⠎⠙" and found[2]["brf"] == "SAID"
    # the unaltered file reflowed is still no edit at all
    plain = tmp_path / "plain-reflowed.brf"
    plain.write_text(reflowed(brf, 24))
    assert proposals(job_id, plain) == []


def test_accepted_proposals_become_corrections_the_next_job_applies(job, tmp_path):
    job_id, brf = job
    path = tmp_path / "edited.brf"
    path.write_text(edited(brf))
    listed = run("corrections", "learn", job_id, str(path))
    assert "3 proposed corrections" in listed.stderr and "--accept all" in listed.stderr
    assert "  3. said: ⠎⠙ → ⠎⠁⠊⠙ (SD → SAID), 1 place: page 1 line" in listed.stdout
    assert store.listing() == []                      # listing stores nothing
    bad = run("corrections", "learn", job_id, str(path), "--accept", "4", ok=False)
    assert bad.exit_code == 2 and "4 is not one of the 3 proposals" in bad.output
    run("corrections", "learn", job_id, str(path), "--accept", "1,3", "--set", "lighthouse")
    stored = {(c.print_text, c.braille, c.set_name, c.origin) for c in store.listing()}
    assert stored == {("keepers", "⠅⠑⠑⠏⠑⠗⠎", "lighthouse", "learned"),
                      ("said", "⠎⠁⠊⠙", "lighthouse", "learned")}
    assert all("learned from edited.brf" in c.note for c in store.listing())
    # the next job with that set writes them wherever the words stand alone
    folder = tmp_path / "in"
    again = run("convert", str(folder), "-o", str(tmp_path / "again"), "--format", "brf",
                "--engine", "louis", "--corrections", "lighthouse")
    assert "(0 reused)" in again.stderr
    text = (tmp_path / "again" / "lighthouse.brf").read_text()
    assert ",KEEPERS (" in text and "SAID1" in text and " SD1" not in text
    assert "CLE> NI<T" in text                        # not accepted


def test_an_edit_liblouis_reads_otherwise_is_listed_refused_and_stored_only_by_force(
        job, tmp_path):
    job_id, brf = job
    path = tmp_path / "edited.brf"
    path.write_text(edited(brf, [("SD1", "SAD1")]))   # "sad", not "said"
    found = proposals(job_id, path)
    assert [(p["print"], p["edited"]) for p in found] == [("said", "⠎⠁⠙")]
    assert "sad" in found[0]["refused"]
    refused = run("corrections", "learn", job_id, str(path), "--accept", "all", ok=False)
    assert refused.exit_code == 1 and "--force" in refused.output
    assert store.listing() == []
    run("corrections", "learn", job_id, str(path), "--accept", "all", "--force")
    assert [(c.print_text, c.braille) for c in store.listing()] == [("said", "⠎⠁⠙")]


def test_a_job_of_several_documents_needs_the_document_named(env, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("The knowledge of the sea.\n")
    (folder / "b.txt").write_text("The children said so.\n")
    out = run("convert", str(folder), "-o", str(tmp_path / "out"), "--format", "brf",
              "--engine", "louis")
    job_id = out.stderr.split("job ", 1)[1].split(":", 1)[0]
    path = tmp_path / "b-edited.brf"
    path.write_text((tmp_path / "out" / "b.brf").read_text().replace("SD", "SAID"))
    several = run("corrections", "learn", job_id, str(path), ok=False)
    assert several.exit_code == 1 and "--document PATH" in several.output
    found = proposals(job_id, path, "--document", "b.txt")
    assert [(p["print"], p["edited"]) for p in found] == [("said", "⠎⠁⠊⠙")]
    missing = run("corrections", "learn", job_id, str(tmp_path / "none.brf"), ok=False)
    assert missing.exit_code != 0 and "none.brf" in missing.output


def test_page_furniture_and_divided_words_are_read_as_the_words_they_hold():
    page1 = ["⠀⠀⠀⠀⠀⠀⠠⠞⠊⠞⠇⠑⠀⠀⠀⠀⠼⠁⠃",            # a print page number on the first line
             "⠞⠓⠑⠀⠅⠝⠪⠤",                           # a word divided with a hyphen
             "⠇⠫⠛⠑⠀⠕⠋⠀⠓⠞⠞⠏⠒⠸⠌⠐",                  # a symbol run with the continuation
             "⠸⠌⠑⠭⠁⠍⠏⠇⠑⠀⠎⠑⠇⠋⠤",                   # a divided compound, at its own hyphen
             "⠅⠀⠑⠝⠙",
             "⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠼⠁⠉",                   # a print page change indicator line
             "⠤⠤⠤⠤⠀⠀⠀⠀⠼⠁"]                          # a line of hyphens, the page number
    words = words_of([page1, ["⠁⠛⠁⠔⠀⠀⠀⠀⠼⠃"]])
    assert [w.cells for w in words] == ["⠠⠞⠊⠞⠇⠑", "⠞⠓⠑", "⠅⠝⠪⠤⠇⠫⠛⠑", "⠕⠋",
                                        "⠓⠞⠞⠏⠒⠸⠌⠸⠌⠑⠭⠁⠍⠏⠇⠑", "⠎⠑⠇⠋⠤⠅", "⠑⠝⠙", "⠁⠛⠁⠔"]
    assert words[2].joined_hyphen == 3 and words[2].key == "⠅⠝⠪⠇⠫⠛⠑"
    assert (words[6].page, words[6].row, words[7].page) == (1, 5, 2)
    with pytest.raises(Exception, match="not BRF"):
        rows_of("KN[L$GE \u00e9\n".encode("utf-8"), "text")


def test_a_pef_job_compares_with_an_edited_brf(job, tmp_path):
    _, brf = job
    out = run("convert", str(tmp_path / "in"), "-o", str(tmp_path / "pef"), "--format", "pef",
              "--engine", "louis")
    pef_job = out.stderr.split("job ", 1)[1].split(":", 1)[0]
    path = tmp_path / "edited.brf"
    path.write_text(reflowed(edited(brf), 36))
    found = proposals(pef_job, path)
    assert [(p["print"], p["edited"]) for p in found] == EXPECTED
