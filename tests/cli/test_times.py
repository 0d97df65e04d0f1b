"""Every time the command line prints for people carries its zone (UTC), whatever database or
record it comes from: SQLite gives stored times back without a zone."""

import json
import re
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner

from braillejobs.cli import main
from braillejobs.cli.terminal import human_time
from tests.support import settings, unique

ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")


def test_jobs_and_status_print_times_with_their_zone(env, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text("A line.\n")
    runner = CliRunner()
    converted = runner.invoke(main, ["convert", str(src), "-o", str(tmp_path / "out")])
    assert converted.exit_code == 0, converted.output
    job = converted.stderr.split("job ", 1)[1].split(":", 1)[0]
    from braillejobs import jobs

    jobs.create_job([str(src / "a.txt")], jobs.JobOptions.build(engine="louis"))  # unfinished
    for args in (["jobs"], ["status", job], ["status"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert lines and all(ISO_UTC.fullmatch(line.split()[-1]) for line in lines), \
            (args, result.stdout)
    for args in (["jobs", "--json"], ["status", "--json"]):
        for info in json.loads(runner.invoke(main, args).stdout):
            assert ISO_UTC.fullmatch(info["created_at"]), info
    done = json.loads(runner.invoke(main, ["status", job, "--json"]).stdout)
    assert ISO_UTC.fullmatch(done["created_at"]) and ISO_UTC.fullmatch(done["finished_at"])


def test_dead_letters_list_shows_the_time_in_utc(env):
    """A record written with another offset is shown at its UTC time, not its wall time."""
    import redis

    from braillejobs.fleet import deadletters
    from braillejobs.messages import Refusal

    name = unique("dead-times")
    client = redis.Redis.from_url(env["broker_url"])
    when = datetime(2026, 12, 2, 20, 8, 15, tzinfo=timezone(timedelta(hours=1)))
    letter, kept = deadletters.make_record(b"not json", Refusal("encoding", "not JSON"),
                                           queue="q", worker="w@h", when=when)
    try:
        deadletters.push(client, letter, kept, name=name)
        with settings(dead_letter_list=name):
            result = CliRunner().invoke(main, ["dead-letters", "list"])
        assert result.exit_code == 0, result.output
        row = next(line for line in result.stdout.splitlines() if letter.id in line)
        assert "2026-12-02 19:08:15 UTC" in row, row
    finally:
        client.delete(name, deadletters.messages_key(name))
        client.close()


def test_human_time_is_utc_and_says_so():
    assert human_time(datetime(2026, 12, 2, 19, 8, 15)) == "2026-12-02 19:08:15 UTC"
    assert human_time("2026-12-02T21:08:15.5+02:00") == "2026-12-02 19:08:15 UTC"
    assert human_time(None) == "-" and human_time("") == "-"
    assert human_time("soon\x1b[2J") == "soon\\x1b[2J"
