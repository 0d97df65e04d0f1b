"""The fleet commands' shape: `workers` keeps what Celery's own command line lacks."""

from click.testing import CliRunner

from braillejobs.cli import main


def _commands(group) -> list[str]:
    return sorted(group.commands)


def test_workers_keeps_only_what_celery_does_not_do():
    """ping, active and shutdown are Celery's `inspect ping`, `inspect active` and `control
    shutdown`; scale could not work on the threads pool. The help names Celery's commands."""
    workers = main.commands["workers"]
    assert _commands(workers) == ["drain", "list", "pause", "resume"]
    runner = CliRunner()
    for gone in (["ping"], ["active"], ["shutdown", "host@x"], ["scale", "host@x", "2"]):
        result = runner.invoke(main, ["workers", *gone])
        assert result.exit_code == 2 and "No such command" in result.output, gone
    shown = runner.invoke(main, ["workers", "-h"])
    assert shown.exit_code == 0
    assert "celery -A" in shown.output and "inspect ping" in shown.output
    assert "control shutdown" in shown.output


def test_every_fleet_command_has_help():
    runner = CliRunner()
    names = [["workers", n] for n in _commands(main.commands["workers"])]
    names += [["dead-letters", n] for n in _commands(main.commands["dead-letters"])]
    names += [["queues"], ["exporter"], ["flower"], ["top"], ["workers"], ["dead-letters"]]
    for args in names:
        for flag in ("-h", "--help"):
            result = runner.invoke(main, [*args, flag])
            assert result.exit_code == 0 and "Usage:" in result.output, (args, flag)
