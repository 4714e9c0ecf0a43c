"""Several processes, one truth: migrations under a lock, ``tagora migrate``, stores that must be paired."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import create_engine, text

from tagora.core.db import make_engine
from tagora.core.errors import AppError
from tagora.core.stores import STORE_ID, open_stores, schema_revisions
from tagora.settings import Settings
from tests.conftest import make_settings

SECRET = "production-secret-" + "x" * 32
Schemas = Callable[[], str]


@pytest.fixture
def pg_schemas(postgres_url: str) -> Iterator[Schemas]:
    """Makes fresh, empty schemas on the CI PostgreSQL and returns a URL whose search path is each one."""
    admin = create_engine(make_engine(postgres_url).url)
    made: list[str] = []

    def fresh() -> str:
        schema = f"t_{uuid.uuid4().hex[:12]}"  # generated here, never user input
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        made.append(schema)
        return f"{postgres_url}?options=-csearch_path%3D{schema}"

    yield fresh
    with admin.begin() as conn:
        for schema in made:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _tagora(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tagora.cli", *args],
        env={**os.environ, "TAGORA_ENV": "test", "TAGORA_SECRET_KEY": SECRET, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=300)
    return process.returncode, out, err


@pytest.mark.postgres
def test_three_processes_migrating_an_empty_postgresql_database_at_once_all_succeed(
    pg_schemas: Schemas, tmp_path: Path
) -> None:
    env = {
        "TAGORA_HOME": str(tmp_path / "home"),
        "TAGORA_DATABASE_URL": pg_schemas(),
        "TAGORA_WAREHOUSE_URL": pg_schemas().replace("postgresql://", "postgres://"),
    }
    results = [_finish(p) for p in [_tagora(env, "migrate", "--json") for _ in range(3)]]

    assert [code for code, _, _ in results] == [0, 0, 0], [err[-2000:] for _, _, err in results]
    reports = [json.loads(out) for _, out, _ in results]
    assert len({r["store_id"] for r in reports}) == 1  # one pairing, made by whichever came first
    assert sum(r["upgraded"] for r in reports) == 1  # the others found the work done when their turn came
    engine = make_engine(env["TAGORA_DATABASE_URL"])
    current, heads = schema_revisions(engine)
    engine.dispose()
    assert current == heads


def test_two_processes_migrating_a_new_sqlite_database_at_once_both_succeed(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'shared.db'}"
    homes = [tmp_path / "a", tmp_path / "b"]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from tagora.core.db import make_engine;"
                "from tagora.core.stores import migrate; print(sorted(migrate(make_engine(sys.argv[1]))[0]))",
                database,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in homes
    ]
    results = [_finish(p) for p in processes]
    assert [code for code, _, _ in results] == [0, 0], [err[-2000:] for _, _, err in results]
    befores = sorted(out.strip() for _, out, _ in results)
    assert befores[1] == "[]" and befores[0] != "[]"  # one migrated the empty database, the other waited


def _split_settings(tmp_path: Path, database_url: str | None = None) -> tuple[Settings, Settings]:
    first = make_settings(tmp_path / "first", database_url=database_url)
    shared = database_url or first.resolved_database_url
    return first, make_settings(tmp_path / "second", database_url=shared)


def _assert_refused_untouched(second: Settings) -> None:
    with pytest.raises(AppError) as refused:
        open_stores(second)
    assert refused.value.status == 409
    assert "do not belong together" in refused.value.message
    assert "warehouse.duckdb" in refused.value.message and "tagora migrate" in refused.value.message
    assert refused.value.to_dict()["error"]["data"]["warehouse_store"] is None
    with duckdb.connect(str(second.home / "warehouse.duckdb")) as con:  # nothing was written there
        assert con.sql("SHOW TABLES").fetchall() == []


def test_a_process_on_the_same_metadata_with_another_homes_warehouse_is_refused(tmp_path: Path) -> None:
    first, second = _split_settings(tmp_path)
    stores = open_stores(first)
    stores.close()
    _assert_refused_untouched(second)
    again = open_stores(first)  # the stores that belong together still open
    assert again.extras[STORE_ID] == stores.extras[STORE_ID]
    again.close()


@pytest.mark.postgres
def test_a_second_server_on_the_same_postgresql_with_another_warehouse_refuses_to_start(
    pg_schemas: Schemas, tmp_path: Path
) -> None:
    first, second = _split_settings(tmp_path, pg_schemas())
    open_stores(first).close()
    _assert_refused_untouched(second)

    env = {"TAGORA_HOME": str(second.home), "TAGORA_DATABASE_URL": str(second.database_url)}
    code, _, err = _finish(_tagora(env, "serve", "--port", "0"))
    assert code == 2 and "do not belong together" in err and "Traceback" not in err


def test_a_new_metadata_database_beside_a_paired_warehouse_is_refused(tmp_path: Path) -> None:
    first = make_settings(tmp_path / "home")
    open_stores(first).close()
    other = make_settings(tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'other.db'}")
    with pytest.raises(AppError, match="do not belong together") as refused:
        open_stores(other)
    assert refused.value.data["metadata_store"] is None and refused.value.data["warehouse_store"]


def test_adopting_a_warehouse_pairs_it_on_purpose_and_later_opens_need_no_flag(tmp_path: Path) -> None:
    first, second = _split_settings(tmp_path)
    stores = open_stores(first)
    stores.close()
    adopted = open_stores(second, upgrade=True, adopt_warehouse=True)
    adopted.close()
    assert adopted.extras[STORE_ID] == stores.extras[STORE_ID]
    open_stores(second).close()


def _production(home: Path, database_url: str) -> Settings:
    return Settings(env="production", home=home, database_url=database_url, secret_key=SECRET)  # type: ignore[arg-type]


@pytest.mark.postgres
def test_in_production_an_out_of_date_postgresql_schema_refuses_to_start_until_tagora_migrate(
    pg_schemas: Schemas, tmp_path: Path
) -> None:
    url = pg_schemas().replace("postgresql://", "postgres://")  # accepted like postgresql://
    settings = _production(tmp_path / "home", url)
    with pytest.raises(AppError, match="run `tagora migrate`") as refused:
        open_stores(settings)
    assert refused.value.data["current"] == [] and refused.value.data["needed"]
    assert "tagora:***@" in refused.value.message  # the password is not shown

    env = {"TAGORA_HOME": str(settings.home), "TAGORA_DATABASE_URL": url, "TAGORA_ENV": "production"}
    code, _, err = _finish(_tagora(env, "tracking", "serve", "--port", "0"))  # the tracking API refuses too
    assert code == 2 and "run `tagora migrate`" in " ".join(err.split()) and "Traceback" not in err
    code, out, err = _finish(_tagora(env, "migrate", "--json"))
    assert code == 0, err
    assert json.loads(out)["upgraded"] is True
    stores = open_stores(settings)
    assert stores.engine.dialect.name == "postgresql"
    stores.close()


def test_a_database_migrated_by_a_newer_release_is_refused_by_name(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home")
    stores = open_stores(settings)
    with stores.engine.begin() as conn:
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('9999')"))
    stores.close()
    with pytest.raises(AppError, match="newer Tagora release") as refused:
        open_stores(settings)
    assert "9999" in refused.value.message and "9999" in refused.value.data["revisions"]


def test_the_schema_check_reads_the_same_revisions_and_heads_as_alembic() -> None:
    from alembic.script import ScriptDirectory

    from tagora.core.stores import alembic_config, migration_graph

    script = ScriptDirectory.from_config(alembic_config(make_engine("sqlite://")))
    revisions, heads = migration_graph()
    assert revisions == {r.revision for r in script.walk_revisions()}
    assert heads == set(script.get_heads()) and heads
