"""The settings of the shared service, declared once as data (name, type, default, env var, help).

Each field of :class:`Settings` carries its environment variable and its help in its metadata;
:func:`settings_rows` reads them back, ``docs/settings.md`` is generated from them by
:func:`render_markdown` (a test keeps the two in step), and :meth:`Settings.from_env` reads the
environment. Lengths are metres and times seconds, as everywhere inside Deconflict.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from deconflict.errors import ConfigError

CONFLICT_RULES = ("reject", "accept-by-priority")
CONSTRAINT_RULES = ("reject", "flag")
FANOUTS = ("auto", "postgres", "none")
SQLITE_SYNCHRONOUS = ("full", "normal")
TRACK_SHARING = ("full", "anonymised", "in_conflict")


def _setting(default: Any, env: str, help: str, choices: tuple[str, ...] = ()) -> Any:
    return field(default=default, metadata={"env": env, "help": help, "choices": choices})


@dataclass(frozen=True)
class Settings:
    """Everything the host of the shared service can set; every field has an env var."""

    database_url: str = _setting(
        "sqlite:///deconflict.db",
        "DECONFLICT_DATABASE_URL",
        "SQLAlchemy URL of the store: `sqlite:///FILE`, `sqlite://` (in memory) or "
        "`postgresql+psycopg://USER@HOST/DB`.",
    )
    sqlite_synchronous: str = _setting(
        "full",
        "DECONFLICT_SQLITE_SYNCHRONOUS",
        "Durability of a SQLite store (WAL either way): `full` syncs the log to disk at every "
        "commit, so an acknowledged write survives a power cut or OS crash (one fsync a write); "
        "`normal` syncs at checkpoints only: a killed process loses nothing, a power cut may lose "
        "the last commits. Choose `normal` only on a disk whose fsync is slow and whose loss of "
        "the last seconds is acceptable.",
        SQLITE_SYNCHRONOUS,
    )
    host: str = _setting("127.0.0.1", "DECONFLICT_HOST", "Address `deconflict serve` binds.")
    port: int = _setting(8700, "DECONFLICT_PORT", "TCP port `deconflict serve` listens on.")
    admin_token: str = _setting(
        "",
        "DECONFLICT_ADMIN_TOKEN",
        "Bearer token of the host (admin endpoints). Empty: only admin tokens made with "
        "`deconflict party add NAME --admin` work.",
    )
    host_key_file: str = _setting(
        "",
        "DECONFLICT_HOST_KEY_FILE",
        "PEM file of the host's Ed25519 private key, which signs the service's log entries; "
        "made if missing. Empty: a new key each start (its public key is logged as the entry "
        "`host.key`).",
    )
    conflict_rule: str = _setting(
        "reject",
        "DECONFLICT_CONFLICT_RULE",
        "What the procedures do with an operation that conflicts with another: `reject` it, or "
        "`accept-by-priority` (accepted as conflicting when its priority is higher than every "
        "conflicting operation's).",
        CONFLICT_RULES,
    )
    separation_standard: str = _setting(
        "icao-5nm",
        "DECONFLICT_SEPARATION_STANDARD",
        "Separation standard whose minima widen the comparison of operations: two conflict "
        "where their volumes come closer than its horizontal and vertical minima while their "
        "times overlap (a name from `deconflict.predict.standards`, e.g. `icao-5nm`, "
        "`icao-3nm`, `do365`; `none`: volumes must overlap, InterUSS's rule).",
    )
    no_fly_rule: str = _setting(
        "reject",
        "DECONFLICT_NO_FLY_RULE",
        "What happens to an operation entering a no-fly area: `reject` it (409), or `flag` it "
        "(accepted, flagged, and its owner notified).",
        CONSTRAINT_RULES,
    )
    restricted_rule: str = _setting(
        "flag",
        "DECONFLICT_RESTRICTED_RULE",
        "What happens to an operation entering a restricted area: `reject` or `flag`.",
        CONSTRAINT_RULES,
    )
    proximity_horizon_s: float = _setting(
        120.0,
        "DECONFLICT_PROXIMITY_HORIZON_S",
        "Area proximity warning: a track predicted to enter an airspace constraint within this "
        "many seconds raises an alert.",
    )
    poll_limit: int = _setting(
        500, "DECONFLICT_POLL_LIMIT", "Most events one poll of `/v1/events` returns."
    )
    fanout: str = _setting(
        "auto",
        "DECONFLICT_FANOUT",
        "How a write made through one service instance reaches the WebSocket clients of the "
        "others on the same database: `postgres` (LISTEN/NOTIFY on the log head, within "
        "milliseconds), `none` (each socket re-reads the store every second), `auto` "
        "(`postgres` when `database_url` is PostgreSQL, else `none`).",
        FANOUTS,
    )
    track_sharing: str = _setting(
        "full",
        "DECONFLICT_TRACK_SHARING",
        "What the procedures let a party see of the tracks of other parties' aircraft in its "
        "live picture (its own aircraft and unidentified tracks are always shown in full): "
        "`full` (owner, callsign, icao24), `anonymised` (position and motion under a pseudonym "
        "stable for that viewer, no owner, callsign or icao24), `in_conflict` (in full, only "
        "while an alert of the party's own aircraft is about it).",
        TRACK_SHARING,
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from the environment (``DECONFLICT_*``), then ``overrides`` (not None)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(f.metadata["env"])
            if raw is not None and raw != "":
                values[f.name] = _parse(f, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            choices = f.metadata["choices"]
            value = getattr(self, f.name)
            if choices and value not in choices:
                raise ConfigError(
                    f"setting {f.name} ({f.metadata['env']}) is {value!r}; "
                    f"choose one of {', '.join(choices)}"
                )
        if not 0 < self.port < 65536:
            raise ConfigError(f"port {self.port} is not a TCP port; use 1-65535")


def _parse(f: dataclasses.Field[Any], raw: str) -> Any:
    kind = f.type if isinstance(f.type, str) else f.type.__name__
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError:
        raise ConfigError(
            f"{f.metadata['env']}={raw!r} is not a number; setting {f.name} wants a {kind}"
        ) from None
    return raw


def settings_rows() -> list[dict[str, str]]:
    """One row per setting: name, env, type, default, help (choices folded into help)."""
    rows = []
    for f in dataclasses.fields(Settings):
        kind = f.type if isinstance(f.type, str) else f.type.__name__
        help_text = f.metadata["help"]
        if f.metadata["choices"]:
            help_text += " One of: " + ", ".join(f"`{c}`" for c in f.metadata["choices"]) + "."
        rows.append(
            {
                "name": f.name,
                "env": f.metadata["env"],
                "type": str(kind),
                "default": repr(f.default),
                "help": help_text,
            }
        )
    return rows


def render_markdown() -> str:
    """The text of docs/settings.md."""
    lines = [
        "# Settings",
        "",
        "The shared service's settings (`deconflict.settings.Settings`). Each one is read from its",
        "environment variable; `deconflict serve` options override them. Generated from",
        "`deconflict.settings` by `python -m deconflict.settings > docs/settings.md`.",
        "",
        "| setting | environment variable | type | default | meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in settings_rows():
        lines.append(
            f"| `{row['name']}` | `{row['env']}` | {row['type']} | `{row['default']}` "
            f"| {row['help']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(render_markdown(), end="")
