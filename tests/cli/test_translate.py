import subprocess

from click.testing import CliRunner

from braillejobs.cli import main
from tests.support import cli_path, env_for, louis_unicode


def run(args, text, **values):
    return subprocess.run([cli_path(), *args], input=text.encode("utf-8"), capture_output=True,
                          env=env_for(**values), timeout=120)


def test_quick_brown_fox_subprocess():
    proc = run(["translate", "--engine", "louis"], "The quick brown fox\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode("utf-8") == "⠠⠮⠀⠟⠅⠀⠃⠗⠪⠝⠀⠋⠕⠭\n"


def test_one_output_line_per_input_line():
    text = "First line.\n\n  indented, with 3 numbers 1 2 3\r\nlast line without newline"
    result = CliRunner().invoke(main, ["translate", "--engine", "louis"], input=text)
    assert result.exit_code == 0, result.output
    out = result.output.split("\n")
    assert out[-1] == "" and len(out) - 1 == 4
    assert out[1] == ""
    assert result.output == louis_unicode(text.replace("\r\n", "\n"))


def test_grade1_and_brf():
    g1 = CliRunner().invoke(main, ["translate", "--table", "en-ueb-g1.ctb"], input="the\n")
    assert g1.output == "⠞⠓⠑\n"
    brf = CliRunner().invoke(main, ["translate", "--output-format", "brf"], input="The fox\n")
    assert brf.output == ",! FOX\n"


def test_unavailable_engine_is_a_clear_error():
    proc = run(["translate", "--engine", "cnn"], "The fox\n", model_dir="/nonexistent-models")
    if proc.returncode == 0:  # a model is installed: then it must keep the line contract
        assert proc.stdout.decode().count("\n") == 1
        return
    err = proc.stderr.decode()
    assert "Traceback" not in err and "Error:" in err and "cnn" in err
    bad = run(["translate", "--engine", "nope"], "x\n")
    assert bad.returncode == 2 and "nope" in bad.stderr.decode()


def test_non_utf8_stdin_is_reported():
    proc = subprocess.run([cli_path(), "translate"], input=b"caf\xe9\n", capture_output=True,
                          env=env_for(), timeout=60)
    assert proc.returncode == 1
    assert b"stdin line 1 is not UTF-8" in proc.stderr


def test_byte_order_marks_and_lone_carriage_returns_are_not_text():
    # files joined by cat hold a byte-order mark where each began; liblouis would spell it out
    # ("zero"), and a neural engine refuses a carriage return inside a line
    text = "\ufeffThe cat.\n\ufeffThe dog.\na\rb\n"
    for engine in ("louis", "auto", "cnn"):
        result = CliRunner().invoke(main, ["translate", "--engine", engine], input=text)
        assert result.exit_code == 0, (engine, result.output)
        assert result.output == louis_unicode("The cat.\nThe dog.\na b\n"), engine
