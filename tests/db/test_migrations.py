"""The Alembic migrations and the models agree, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, text

from braillejobs.cli import main
from braillejobs.db import session
from braillejobs.db.models import Base
from tests.support import settings


def test_upgrade_then_autogenerate_finds_no_diff(db_url, tmp_path):
    with settings(database_url=db_url, data_dir=tmp_path):
        result = CliRunner().invoke(main, ["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert f"revision {session.head_revision()}" in result.output
        current = CliRunner().invoke(main, ["db", "current"])
        assert current.output.strip() == session.head_revision()
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(ctx, Base.metadata) == []
            assert {"jobs", "documents", "results", "corrections", "alembic_version"} <= \
                set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def test_downgrade_and_old_revision_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    with settings(database_url=url):
        session.upgrade(url)
        from alembic import command
        command.downgrade(session.alembic_config(url), "base")
        assert session.current_revision(session.get_engine(url)) is None
        # a foreign database with our tables but no stamp is refused with a message
        Base.metadata.create_all(session.get_engine(url))
        res = CliRunner().invoke(main, ["jobs"])
        assert res.exit_code == 1 and "no migration stamp" in res.output


def test_unreachable_database_is_one_line_error(tmp_path):
    with settings(database_url="postgresql+psycopg2://nobody:pw@127.0.0.1:1/none"):
        res = CliRunner().invoke(main, ["jobs"])
    assert res.exit_code == 1
    assert "cannot open database" in res.output and "pw@" not in res.output
    assert "BRAILLEJOBS_DATABASE_URL" in res.output and "Traceback" not in res.output


def test_a_database_at_0001_is_refused_until_upgraded_and_keeps_its_jobs(db_url, tmp_path):
    """0002 adds the corrections table and 0003 the corrections each document applied: a
    database made by the release before them says to upgrade, and `db upgrade` adds them
    without touching the jobs."""
    from alembic import command

    from braillejobs import jobs

    with settings(database_url=db_url, data_dir=tmp_path):
        session.upgrade(db_url)
        src = tmp_path / "a.txt"
        src.write_text("A line.\n")
        created = jobs.create_job([str(src)], jobs.JobOptions.build(engine="louis"))
        command.downgrade(session.alembic_config(db_url), "0001")
        session.dispose_all()
        refused = CliRunner().invoke(main, ["jobs"])
        assert refused.exit_code == 1 and "braillejobs db upgrade" in refused.output
        upgraded = CliRunner().invoke(main, ["db", "upgrade"])
        assert upgraded.exit_code == 0, upgraded.output
        listed = CliRunner().invoke(main, ["jobs"])
        assert listed.exit_code == 0 and created.job_id[:8] in listed.output
        engine = create_engine(db_url)
        try:
            with engine.begin() as conn:
                found = inspect(conn)
                assert "corrections" in found.get_table_names()
                for table in ("documents", "results"):
                    assert "corrections_used" in {c["name"] for c in found.get_columns(table)}
                # the PostgreSQL database is shared by the session's tests: leave no job
                conn.execute(text("DELETE FROM jobs WHERE id = :id"), {"id": created.job_id})
        finally:
            engine.dispose()
