"""The migrations build exactly the schema the code queries, on every backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.migration import MigrationContext

from deconflict.errors import StorageError
from deconflict.store import Store, open_store
from deconflict.store.schema import metadata


def _head() -> str | None:
    """The newest revision of the migrations (the store upgrades to it)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from deconflict.store.connection import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


@pytest.mark.filterwarnings("ignore:.*expression-based index ix_events_message_id")
@pytest.mark.filterwarnings("ignore:.*expression-based index 'ix_events_message_id'")
def test_migrated_schema_matches_metadata(store: Store) -> None:
    from alembic.autogenerate import compare_metadata

    with store._writer.connect() as conn:
        context = MigrationContext.configure(conn)
        diffs = compare_metadata(context, metadata)
        assert context.get_current_revision() == _head()
        if store.backend == "sqlite":  # alembic cannot reflect SQLite's expression indexes
            ddl = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'ix_events_message_id'"
            ).scalar_one()
            assert "json_extract(payload, '$.message_id')" in ddl
    assert diffs == []


def test_open_twice_is_idempotent(store_url: str) -> None:
    first = open_store(store_url)
    first.add_party("alpha", public_key="k")
    first.close()
    if store_url == "sqlite://":
        return  # memory databases do not outlive their engine
    second = open_store(store_url)
    assert [p.name for p in second.list_parties()] == ["alpha"]
    second.close()


def test_sqlite_file_is_in_wal_mode_and_syncs_every_commit(tmp_path: Path) -> None:
    """WAL, and synchronous=FULL (2) on the writer: an acknowledged write is on disk."""
    store = open_store(f"sqlite:///{tmp_path}/wal.db")
    with store._reader.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    with store._writer.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
    store.close()
    relaxed = open_store(f"sqlite:///{tmp_path}/wal.db", synchronous="normal")
    with relaxed._writer.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1
    relaxed.close()
    with pytest.raises(StorageError, match="'full' or 'normal'"):
        open_store(f"sqlite:///{tmp_path}/wal.db", synchronous="off")


def test_bad_url_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match="not supported"):
        open_store("mysql://nobody@localhost/x")
    with pytest.raises(StorageError, match="not a URL"):
        open_store("::::")
