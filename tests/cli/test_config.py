import json

from click.testing import CliRunner

from braillejobs import config
from braillejobs.cli import main
from tests.support import settings


def test_every_setting_is_documented_and_typed():
    names = [s.name for s in config.SETTINGS]
    assert len(names) == len(set(names))
    for s in config.SETTINGS:
        assert len(s.help.strip()) > 15, f"setting {s.name} needs help text"
        assert s.env_var == "BRAILLEJOBS_" + s.name.upper()
        config.get(s.name)  # every default is usable


def test_config_command_masks_secrets(tmp_path):
    with settings(database_url="postgresql+psycopg2://bj:hunter2secret@db.example/bj",
                  broker_url="redis://:s3cr3tpass@redis.example:6379/0"):
        result = CliRunner().invoke(main, ["config"])
        as_json = CliRunner().invoke(main, ["config", "--json"])
    assert result.exit_code == 0, result.output
    for out in (result.output, as_json.output):
        assert "hunter2secret" not in out and "s3cr3tpass" not in out
        assert "bj:***@db.example" in out and ":***@redis.example" in out
    values = json.loads(as_json.output)
    assert set(values) == {s.name for s in config.SETTINGS}
    assert "BRAILLEJOBS_DOCUMENTS_PER_TASK" in result.output


def test_defaults_and_env_override(tmp_path):
    with settings(data_dir=tmp_path, documents_per_task="7", dedup="no"):
        assert config.get("database_url") == f"sqlite:///{tmp_path / 'braillejobs.db'}"
        assert config.get("documents_per_task") == 7
        assert config.get("dedup") is False
        assert config.get("broker_url") == "redis://127.0.0.1:6379/0"
        assert config.get("table") == "en-ueb-g2.ctb"


def test_bad_setting_is_one_line_error(tmp_path):
    with settings(data_dir=tmp_path, documents_per_task="many"):
        result = CliRunner().invoke(main, ["convert", str(tmp_path), "-o", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "BRAILLEJOBS_DOCUMENTS_PER_TASK='many' is not valid" in result.output
    assert "Traceback" not in result.output


def test_engine_and_table_settings_are_checked_where_they_are_read():
    import pytest

    from braillejobs.translate.device import pick_device
    from braillejobs.translate.engine import EngineError

    with settings(engine=" AUTO", table="EN-UEB-G1.CTB"):
        assert (config.get("engine"), config.get("table")) == ("auto", "en-ueb-g1.ctb")
    for name, bad, says in (("engine", "neural", "louis, cnn, rnn, auto"),
                            ("table", "en-ueb-g3.ctb", "en-ueb-g2.ctb, en-ueb-g1.ctb")):
        with settings(**{name: bad}), pytest.raises(config.ConfigError) as info:
            config.get(name)
        assert f"BRAILLEJOBS_{name.upper()}={bad!r} is not valid" in str(info.value)
        assert says in str(info.value)
    # the device is whatever torch accepts, checked where a model is put on it
    with pytest.raises(EngineError, match="'gpu' .BRAILLEJOBS_DEVICE or --device."):
        pick_device("gpu")


def test_readme_opens_with_the_two_commands_and_lists_every_setting():
    from tests.support import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```sh\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert first_block == [
        "./scripts/setup.sh && .venv/bin/braillejobs convert examples -o out --format brf",
        "./scripts/test.sh"]
    for s in config.SETTINGS:
        assert f"`{s.env_var}`" in readme, f"README.md does not document {s.env_var}"
    ci = (REPO / ".ci" / "run").read_text()
    assert "./scripts/test.sh" in ci


def test_a_setting_from_a_secret_file(tmp_path, monkeypatch):
    secret = tmp_path / "db-url"
    secret.write_text("postgresql+psycopg2://bj:fromfile@db.example/bj\n")
    monkeypatch.delenv("BRAILLEJOBS_DATABASE_URL", raising=False)
    monkeypatch.setenv("BRAILLEJOBS_DATABASE_URL_FILE", str(secret))
    assert config.get("database_url") == "postgresql+psycopg2://bj:fromfile@db.example/bj"
    # both set: which one wins would be a guess
    monkeypatch.setenv("BRAILLEJOBS_DATABASE_URL", "sqlite:///x.db")
    try:
        config.get("database_url")
    except config.ConfigError as exc:
        assert "both BRAILLEJOBS_DATABASE_URL and BRAILLEJOBS_DATABASE_URL_FILE" in str(exc)
    else:
        raise AssertionError("both variables set was accepted")
    monkeypatch.delenv("BRAILLEJOBS_DATABASE_URL")
    monkeypatch.setenv("BRAILLEJOBS_DATABASE_URL_FILE", str(tmp_path / "missing"))
    result = CliRunner().invoke(main, ["config"])
    assert result.exit_code == 1 and "BRAILLEJOBS_DATABASE_URL_FILE=" in result.output
    assert "cannot read it" in result.output and "Traceback" not in result.output


def test_placeholder_passwords_are_refused(tmp_path):
    with settings(data_dir=tmp_path,
                  broker_url="redis://:change-me-redis@redis:6379/0"):
        result = CliRunner().invoke(main, ["workers", "list"])
    assert result.exit_code == 1
    assert "BRAILLEJOBS_BROKER_URL still holds the placeholder password" in result.output
    # the shipped examples hold exactly that placeholder
    from tests.support import REPO
    assert "change-me" in (REPO / ".env.example").read_text()
    assert config.PLACEHOLDER in (REPO / "deploy/k8s/secret.yaml").read_text()
