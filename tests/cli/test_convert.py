"""Embedded mode through the CLI: `braillejobs convert` (CliRunner and a real subprocess)."""

import subprocess

from click.testing import CliRunner

from braillejobs import formats
from braillejobs.cli import main
from braillejobs.translate.registry import get_engine
from tests.support import REPO, cli_path, env_for, louis_blocks

EXAMPLES = REPO / "examples"


def test_convert_examples_to_brf_matches_render(env, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["convert", str(EXAMPLES), "-o", str(out),
                                       "--format", "brf"])
    assert result.exit_code == 0, result.output
    sources = sorted(p for p in EXAMPLES.iterdir() if p.suffix in (".txt", ".md"))
    assert len(sources) >= 5
    engine = get_engine("louis", "en-ueb-g2.ctb")
    for src in sources:
        target = out / (src.stem + ".brf")
        expected = formats.render(src.read_bytes(), src.name, engine,
                                  formats.RenderOptions("brf")).content
        assert target.read_bytes() == expected, src.name
    assert f"{len(sources)} of {len(sources)} documents converted" in result.stderr
    assert "engine best ran as" not in result.stderr      # the suite's engine is louis


def test_the_default_engine_says_what_it_ran_as_and_why(env, tmp_path):
    from tests.support import settings

    with settings(engine="best", device="cpu"):
        result = CliRunner().invoke(main, ["convert", str(EXAMPLES / "school-letter.txt"), "-o",
                                           str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert ("engine best ran as louis: the device setting is cpu, where liblouis is the "
            "fastest engine (--engine or BRAILLEJOBS_ENGINE chooses another)") in result.stderr


def test_convert_unicode_equals_liblouis_and_layout_options(env, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    paragraphs = ["Unified English Braille is used in many countries.", "Second line: 42 cats."]
    (src / "note.txt").write_text("\n\n".join(paragraphs) + "\n")
    res = CliRunner().invoke(main, ["convert", str(src), "-o", str(tmp_path / "u"),
                                    "--format", "unicode", "--table", "en-ueb-g1.ctb"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "u" / "note.txt").read_text() == louis_blocks(paragraphs, "en-ueb-g1.ctb")
    res = CliRunner().invoke(main, ["convert", str(src), "-o", str(tmp_path / "b"),
                                    "--cells-per-line", "20", "--lines-per-page", "4"])
    assert res.exit_code == 0, res.output
    rows = (tmp_path / "b" / "note.brf").read_bytes().split(b"\r\n")
    assert max(len(r.lstrip(b"\f")) for r in rows) <= 20


def test_bad_inputs_are_reported_and_the_rest_converted(env, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "good.txt").write_text("Good.\n")
    (src / "empty.txt").write_text("")
    (src / "binary.txt").write_bytes(b"\x00\x00\x01")
    (src / "nodocs").mkdir()
    result = CliRunner().invoke(main, ["convert", str(src), str(tmp_path / "missing.md"),
                                       str(src / "nodocs"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    err_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(err_lines) == 3
    assert any("missing.md: no such file" in e for e in err_lines)
    assert any("binary.txt" in e and "binary" in e for e in err_lines)
    assert any("nodocs: no documents found" in e for e in err_lines)
    assert (tmp_path / "out" / "good.brf").exists()
    # an empty document is valid: it converts (the BRF layout gives it one blank page)
    assert b"\f" not in (tmp_path / "out" / "empty.brf").read_bytes()
    assert "2 of 5 documents converted" in result.stderr and "3 failed" in result.stderr


def test_convert_as_subprocess_records_a_job(env, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run([cli_path(), "convert", str(EXAMPLES / "bread-recipe.txt"), "-o",
                           str(out), "--format", "unicode"], capture_output=True, text=True,
                          env=env_for(**env), timeout=120)
    assert proc.returncode == 0, proc.stderr
    src = EXAMPLES / "bread-recipe.txt"
    expected = formats.render(src.read_bytes(), src.name, get_engine("louis", "en-ueb-g2.ctb"),
                              formats.RenderOptions("unicode")).content
    assert (out / "bread-recipe.txt").read_bytes() == expected
    jobs_out = subprocess.run([cli_path(), "jobs", "--state", "done"], capture_output=True,
                              text=True, env=env_for(**env), timeout=60)
    assert jobs_out.returncode == 0 and " done " in jobs_out.stdout
    assert "unicode/louis" in jobs_out.stdout


def test_convert_with_unavailable_engine_exits_with_message(env, tmp_path):
    res = CliRunner().invoke(main, ["convert", str(EXAMPLES), "-o", str(tmp_path / "o"),
                                    "--engine", "rnn"], env={"BRAILLEJOBS_MODEL_DIR":
                                                             str(tmp_path / "none")})
    if res.exit_code == 0:  # an rnn model is installed here
        return
    assert res.exit_code == 1 and "rnn" in res.output and res.output.startswith("Error:")


def test_progress_bar_on_a_terminal(env, tmp_path):
    import os
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen([cli_path(), "convert", str(EXAMPLES), "-o", str(tmp_path / "o")],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave,
                            env=env_for(**env) | {"COLUMNS": "100", "TERM": "xterm"})
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(120) == 0
    os.close(master)
    shown = b"".join(chunks).decode("utf-8", "replace")
    assert "converting" in shown and "5/5" in shown
    assert "5 of 5 documents converted" in shown


def test_fetch_and_convert_fail_when_a_file_cannot_be_written(env, tmp_path):
    """A planted link in the output folder is refused (right), and the command says so and
    exits 1 instead of reporting success."""
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "a.txt").write_text("The first book.\n")
    (src / "b.txt").write_text("The second book.\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "sub").symlink_to(outside, target_is_directory=True)
    converted = CliRunner().invoke(main, ["convert", str(src), "-o", str(out)])
    assert converted.exit_code == 1, converted.output
    assert "sub/a.txt: cannot write its braille" in converted.stderr
    assert "1 could not be written" in converted.stderr
    job = converted.stderr.split("job ", 1)[1].split(":", 1)[0]
    fetched = CliRunner().invoke(main, ["fetch", job, "-o", str(out)])
    assert fetched.exit_code == 1 and "sub/a.txt: cannot write" in fetched.stderr
    assert "1 not written" in fetched.stderr and list(outside.iterdir()) == []
    missing = tmp_path / "never-made"
    unknown = CliRunner().invoke(main, ["fetch", "ffffffffffff", "-o", str(missing)])
    assert unknown.exit_code != 0 and not missing.exists()


HOSTILE_NAME = "evil\x1b[2J\x1b]0;pwned\x07\rover\bwrite[bold red]markup[/]\u202ertl"


def _raw_controls(text: str) -> list[str]:
    import unicodedata

    return [c for c in text if c not in "\n" and unicodedata.category(c) in ("Cc", "Cf")]


def test_names_from_users_and_documents_reach_the_terminal_escaped(env, tmp_path):
    """A job name and file names with CSI/OSC sequences, a carriage return, a backspace, rich
    markup and a bidi override: status, jobs, top and the error lines show them escaped."""
    src = tmp_path / "in"
    src.mkdir()
    (src / "ok.txt").write_text("Fine.\n")
    (src / "bad\x1b[31m\r.txt").write_bytes(b"\x00\x01\x02 binary \xff\xfe")
    runner = CliRunner()
    converted = runner.invoke(main, ["convert", str(src), "-o", str(tmp_path / "out"),
                                     "--name", HOSTILE_NAME])
    job = converted.stderr.split("job ", 1)[1].split(":", 1)[0]
    from braillejobs import jobs

    jobs.create_job([str(src / "ok.txt")], jobs.JobOptions.build(engine="louis"),
                    name=HOSTILE_NAME)  # a job in flight, for top
    outputs = {"convert": converted.stderr}
    for args in (["status", job], ["status"], ["jobs"], ["top", "--once", "--timeout", "0.5"]):
        result = runner.invoke(main, args)
        outputs[" ".join(args)] = result.output + result.stderr
    assert "bad\\x1b[31m\\r.txt" in outputs["convert"]
    assert "evil\\x1b[2J\\x1b]0;pwned\\x07\\rover\\bwrite[bold red]markup[/]\\u202ertl" in \
        outputs["jobs"]
    top = outputs["top --once --timeout 0.5"]
    assert "[bold" in top and "[/]" in top, top  # markup shown, not obeyed
    for name, text in outputs.items():
        assert not _raw_controls(text), (name, text)


def test_characters_without_a_sign_are_reported_by_convert_and_status(env, tmp_path):
    """Each document records what it transcribed (formats.charset); the operator sees it."""
    import json

    src = tmp_path / "in"
    src.mkdir()
    (src / "cities.txt").write_text("Moscow is Москва and I \u2764\ufe0f it.\n")
    (src / "plain.txt").write_text("Nothing unusual here.\n")
    result = CliRunner().invoke(main, ["convert", str(src), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    [warning] = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert "cities.txt: 7 character(s)" in warning
    assert "6 Cyrillic, transliterated" in warning and "1 emoji" in warning
    job = result.stderr.split("job ", 1)[1].split(":", 1)[0]
    status = CliRunner().invoke(main, ["status", job, "--json"])
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout)["warnings"] == [warning.removeprefix("warning: ")]
    plain = CliRunner().invoke(main, ["status", job])
    assert warning in plain.stderr
