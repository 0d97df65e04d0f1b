"""`fetch` errors: an unknown job is said so, and nothing is written."""

from click.testing import CliRunner

from braillejobs.cli import main


def test_fetch_of_an_unknown_job_says_so_and_creates_no_folder(env, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["fetch", "0123456789ab", "-o", str(out)])
    assert result.exit_code == 1
    assert "no job '0123456789ab'" in result.stderr and "braillejobs jobs" in result.stderr
    assert not out.exists()
