"""Settings are declared once, as data: every one has an env var, and docs/settings.md lists
them all (it is generated from the declarations)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deconflict.errors import ConfigError
from deconflict.settings import Settings, configurations, render_markdown, settings_rows

DOCS = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def test_docs_list_every_setting() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert text == render_markdown(), "regenerate: python -m deconflict.settings > docs/settings.md"
    envs = []
    for _title, cls in configurations():
        for name in cls.model_fields:
            assert f"`{name}`" in text and f"`{cls.env_name(name)}`" in text
        envs += [r["env"] for r in settings_rows(cls) if not r["help"].startswith("As `")]
    # one variable per setting (a field declared as another class's setting says so)
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


def test_engine_and_tracker_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's and the tracker's configurations read their own variables, and a variable
    of the service's that the engine shares is one variable for both."""
    from deconflict.engine.engine import EngineConfig
    from deconflict.tracking import Tracker
    from deconflict.tracking.config import TrackerConfig

    env = {
        "DECONFLICT_ENGINE_CLEAR_AFTER_S": "4",
        "DECONFLICT_TRACK_SHARING": "anonymised",
        "DECONFLICT_PROXIMITY_HORIZON_S": "60",
    }
    engine = EngineConfig.from_env(env)
    assert (engine.clear_after_s, engine.track_sharing, engine.proximity_horizon_s) == (
        4.0,
        "anonymised",
        60.0,
    )
    assert Settings.from_env(env).track_sharing == "anonymised"
    assert EngineConfig(track_sharing="full").track_sharing == "full"  # code overrides the env
    with pytest.raises(ConfigError, match=r"DECONFLICT_TRACK_SHARING.*full, anonymised"):
        EngineConfig.from_env({"DECONFLICT_TRACK_SHARING": "everyone"})

    # the process environment reaches a tracker built with no configuration
    monkeypatch.setenv("DECONFLICT_TRACKER_CONFIRM_HITS", "1")
    monkeypatch.setenv("DECONFLICT_TRACKER_GATE_D2", "9.5")
    tracker_config = Tracker().config
    assert (tracker_config.confirm_hits, tracker_config.gate_d2) == (1, 9.5)
    with pytest.raises(ConfigError, match="DECONFLICT_TRACKER_GATE_D2"):
        TrackerConfig.from_env({"DECONFLICT_TRACKER_GATE_D2": "wide"})
    with pytest.raises(ConfigError, match="coast_after_s"):
        TrackerConfig(coast_after_s=90.0, drop_after_s=60.0)
    with pytest.raises(ConfigError, match="'gate_m' is not a setting of TrackerConfig"):
        TrackerConfig(gate_m=3.0)
    # checked copies, as the service makes them
    with pytest.raises(ConfigError, match="DECONFLICT_CONFLICT_RULE"):
        Settings().replace(conflict_rule="maybe")
