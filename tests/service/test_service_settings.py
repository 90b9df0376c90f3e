"""Settings are declared once, as data: every one has an env var, and docs/settings.md lists
them all (it is generated from the declarations)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from deconflict.errors import ConfigError
from deconflict.settings import Settings, render_markdown, settings_rows

DOCS = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def test_docs_list_every_setting() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert text == render_markdown(), "regenerate: python -m deconflict.settings > docs/settings.md"
    for f in dataclasses.fields(Settings):
        assert f"`{f.name}`" in text and f"`{f.metadata['env']}`" in text
    envs = [r["env"] for r in settings_rows()]
    assert len(envs) == len(set(envs)) and all(e.startswith("DECONFLICT_") for e in envs)


def test_environment_then_overrides() -> None:
    env = {"DECONFLICT_PORT": "9000", "DECONFLICT_CONFLICT_RULE": "accept-by-priority"}
    s = Settings.from_env(env, host="0.0.0.0", port=None)
    assert (s.port, s.conflict_rule, s.host) == (9000, "accept-by-priority", "0.0.0.0")
    assert Settings.from_env(env, port=8123).port == 8123
    with pytest.raises(ConfigError, match="DECONFLICT_PORT"):
        Settings.from_env({"DECONFLICT_PORT": "eighty"})
    with pytest.raises(ConfigError, match="reject, accept-by-priority"):
        Settings.from_env({"DECONFLICT_CONFLICT_RULE": "maybe"})


def test_unknown_separation_standard_is_refused_at_start() -> None:
    from fastapi.testclient import TestClient

    from deconflict.errors import UnknownNameError
    from deconflict.service import create_app

    app = create_app(Settings(database_url="sqlite://", separation_standard="icao-9nm"))
    with pytest.raises(UnknownNameError, match="icao-5nm"), TestClient(app):
        pass


def test_sqlite_durability_reaches_the_store_the_service_writes(tmp_path: Path) -> None:
    from deconflict.service.signing import open_signed_store

    for value, pragma in (("full", 2), ("normal", 1)):
        env = {"DECONFLICT_SQLITE_SYNCHRONOUS": value}
        settings = Settings.from_env(env, database_url=f"sqlite:///{tmp_path}/{value}.db")
        store, _ = open_signed_store(settings)
        with store._writer.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == pragma
        store.close()
    with pytest.raises(ConfigError, match="full, normal"):
        Settings.from_env({"DECONFLICT_SQLITE_SYNCHRONOUS": "off"})
