"""The settings of the shared service, declared once as data (name, type, default, env var, help).

Each field of :class:`Settings` carries its environment variable and its help in its metadata;
:func:`settings_rows` reads them back, ``docs/settings.md`` is generated from them by
:func:`render_markdown` (a test keeps the two in step), and :meth:`Settings.from_env` reads the
environment. Lengths are metres and times seconds, as everywhere inside Deconflict.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from deconflict.errors import ConfigError

CONFLICT_RULES = ("reject", "accept-by-priority")
CONSTRAINT_RULES = ("reject", "flag")
FANOUTS = ("auto", "postgres", "none")
SQLITE_SYNCHRONOUS = ("full", "normal")
IDENTIFICATION_DISCLOSURES = ("involved", "declared")
DISCLOSURES = ("open", "blind")
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
        "`postgresql+psycopg://USER@HOST/DB` (needs the `postgres` extra: "
        "`pip install 'deconflict[postgres]'`).",
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
        "PEM file of the host's Ed25519 private key, which signs the service's log entries and "
        "checkpoints; made if missing. Empty: the key is kept in the store (made on the first "
        "start), so every restart and every instance on the store sign as one host. Its public "
        "key is logged once as the entry `host.key`; change it with `deconflict host-key "
        "rotate`, never by swapping the file (witnesses refuse a key the log did not hand over "
        "to).",
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
    picture_json_parties: str = _setting(
        "",
        "DECONFLICT_PICTURE_JSON_PARTIES",
        "Parties whose live picture `GET /v1/live/aircraft.json` serves (readsb/tar1090 format), "
        "comma-separated; `*`: every party; empty: none (the endpoint answers 403). Each party "
        "gets only its own picture, with its bearer token in the `Authorization` header.",
    )
    picture_cat062_to: str = _setting(
        "",
        "DECONFLICT_PICTURE_CAT062_TO",
        "Where each party's live picture goes as ASTERIX CAT062 over UDP, one datagram per data "
        "block after every tick: `PARTY=HOST:PORT`, comma-separated (a party may have several; "
        "HOST may be a multicast group). UDP carries no authentication: only the destinations "
        "named here receive a picture, so name only hosts of that party. Empty: none.",
    )
    picture_cat062_sac: int = _setting(
        0, "DECONFLICT_PICTURE_CAT062_SAC", "CAT062 System Area Code (I062/010) of the host, 0-255."
    )
    picture_cat062_sic: int = _setting(
        1,
        "DECONFLICT_PICTURE_CAT062_SIC",
        "CAT062 System Identification Code (I062/010) of the host, 0-255.",
    )
    picture_cat062_ttl: int = _setting(
        1,
        "DECONFLICT_PICTURE_CAT062_TTL",
        "Time to live (router hops) of CAT062 datagrams sent to a multicast group, 0-255.",
    )
    picture_cat062_interface: str = _setting(
        "",
        "DECONFLICT_PICTURE_CAT062_INTERFACE",
        "IPv4 address of the interface CAT062 datagrams to a multicast group leave by (e.g. "
        "`127.0.0.1` keeps them on this machine); empty: the system's multicast route.",
    )
    picture_sbs_listen: str = _setting(
        "",
        "DECONFLICT_PICTURE_SBS_LISTEN",
        "TCP ports that serve a party's live picture as SBS-1 BaseStation lines (what Virtual "
        "Radar Server reads): `PARTY=PORT` binds 127.0.0.1 (loopback only), `PARTY=ADDR:PORT` "
        "binds ADDR; comma-separated. A TCP stream carries no authentication: whoever reaches "
        "the port gets the party's picture, so bind beyond loopback only behind a firewall "
        "that admits that party alone. Empty: none.",
    )
    checkpoint_interval_s: float = _setting(
        10.0,
        "DECONFLICT_CHECKPOINT_INTERVAL_S",
        "The host signs a checkpoint of the log's Merkle tree at most this often (s), when the "
        "tree grew: every interval while the service runs, and when a party asks "
        "(`GET /v1/log/checkpoint`).",
    )
    checkpoint_quorum: int = _setting(
        1,
        "DECONFLICT_CHECKPOINT_QUORUM",
        "How many parties must have cosigned a checkpoint (`deconflict witness`) before it "
        "counts: with more than half the parties, no two different histories can both count.",
    )
    log_origin: str = _setting(
        "",
        "DECONFLICT_LOG_ORIGIN",
        "The checkpoints' origin line (C2SP tlog-checkpoint), e.g. `example.org/deconflict`. "
        "Empty: `deconflict.log/` and the first 16 hex digits of the log's first entry's hash.",
    )
    identification_disclosure: str = _setting(
        "involved",
        "DECONFLICT_IDENTIFICATION_DISCLOSURE",
        "Who learns the outcome of an identification request besides the party that asked (the "
        "host, or the observing party on the live map) and the parties that claimed the track: "
        "`involved`: nobody (the others asked see it `pending`, then `closed`); `declared`: the "
        "others asked learn that the track is now declared, never by whom.",
        IDENTIFICATION_DISCLOSURES,
    )
    max_body_bytes: int = _setting(
        1024 * 1024,
        "DECONFLICT_MAX_BODY_BYTES",
        "Largest request body (bytes) the service reads: a larger one is refused with 413 as its "
        "bytes arrive (at once when its Content-Length says so), never parsed. Bounds what one "
        "request parses on the event loop (about 0.1 s for 1 MiB); the largest valid operation "
        "(20,000 vertices) is about 0.8 MiB.",
    )
    max_message_chars: int = _setting(
        16_000,
        "DECONFLICT_MAX_MESSAGE_CHARS",
        "Largest hotline message body (characters of its canonical JSON) a party may send; a "
        "longer one is refused with 422 naming the limit.",
    )
    ws_send_timeout_s: float = _setting(
        10.0,
        "DECONFLICT_WS_SEND_TIMEOUT_S",
        "A WebSocket client that does not take a message for this long is a slow consumer: it is "
        "dropped with close code 1013 and a reason saying where to resume (`after=SEQ`).",
    )
    disclosure: str = _setting(
        "open",
        "DECONFLICT_DISCLOSURE",
        "How parties declare operations: `open` (the host holds their volumes and checks them; "
        "others see the parts that meet theirs) or `blind` (the host holds only a commitment "
        "and contact; parties check each other by private set intersection over space-time "
        "cells, through the host as a relay, and the host holds each declaration to the signed "
        "outcomes: `/v1/blind`, `deconflict agent`).",
        DISCLOSURES,
    )
    blind_cell_m: float = _setting(
        5_000.0,
        "DECONFLICT_BLIND_CELL_M",
        "Blind mode: size of the horizontal cells (m) of the space-time grid (smaller: fewer "
        "false positives, more cells per check).",
    )
    blind_band_m: float = _setting(
        609.6, "DECONFLICT_BLIND_BAND_M", "Blind mode: height of the altitude bands (m)."
    )
    blind_slot_s: float = _setting(
        3600.0, "DECONFLICT_BLIND_SLOT_S", "Blind mode: length of the time slots (s)."
    )
    disclosure_max_area_km2: float = _setting(
        2500.0,
        "DECONFLICT_DISCLOSURE_MAX_AREA_KM2",
        "Largest declaration (km², the footprints of its volumes added up) that the service "
        "shows other parties' operations to: a declaration beyond it that meets operations whose "
        "tokens it lacks is refused (413) and shown nothing of them; one's accepted operations "
        "see what meets them whatever their size. 2,500 km² is the query-area limit of "
        "InterUSS's F3548 DSS.",
    )
    disclosure_max_duration_s: float = _setting(
        86400.0,
        "DECONFLICT_DISCLOSURE_MAX_DURATION_S",
        "Longest declaration (s, first start to last end) that the service shows other parties' "
        "operations to (as `disclosure_max_area_km2`).",
    )
    feeds: str = _setting(
        "",
        "DECONFLICT_FEEDS",
        "Host-side feeds `deconflict serve` connects to or listens on, each `PARTY=URL` "
        "(space- or comma-separated): `tcp://HOST:PORT` (reconnecting), `tcp-listen://`, "
        "`udp://` (a multicast group is joined), the format by port or `FORMAT+tcp://`; "
        "`--feed` adds to them. Their reports enter that party's live picture.",
    )
    feed_reference: str = _setting(
        "",
        "DECONFLICT_FEED_REFERENCE",
        "Receiver position `LAT,LON` (deg) for local CPR decoding of the host-side Mode S "
        "feeds (positions more than 180 NM airborne, 45 NM on the surface from it are refused).",
    )
    feed_max_backoff_s: float = _setting(
        2.0,
        "DECONFLICT_FEED_MAX_BACKOFF_S",
        "Longest wait (s) before a host-side `tcp://` feed dials its receiver again; the wait "
        "starts at 0.25 s, doubles after each fruitless try and starts over after a connection "
        "that delivered frames. Low suits receivers on the LAN or loopback.",
    )
    f3548_token_public_key: str = _setting(
        "",
        "DECONFLICT_F3548_TOKEN_PUBLIC_KEY",
        "PEM file of the RSA public key that verifies the RS256 bearer tokens of the ASTM "
        "F3548-21 DSS API (`/dss/v1`). Empty: the DSS API answers 401 to every request.",
    )
    f3548_token_audience: str = _setting(
        "",
        "DECONFLICT_F3548_TOKEN_AUDIENCE",
        "The `aud` an F3548 token must carry (the DSS's host name). Empty: the host name the "
        "request was made to (its `Host` header without the port).",
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
        if self.checkpoint_quorum < 1 or self.checkpoint_interval_s < 0:
            raise ConfigError(
                "checkpoint_quorum must be at least 1 and checkpoint_interval_s 0 or more "
                f"(got {self.checkpoint_quorum} and {self.checkpoint_interval_s})"
            )
        if any(c.isspace() or c == "+" for c in self.log_origin):
            raise ConfigError(
                f"log_origin {self.log_origin!r} has a space or '+': use a schema-less URL"
            )
        for name in ("max_body_bytes", "max_message_chars", "ws_send_timeout_s"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"setting {name} is {getattr(self, name)!r}; it must be positive")
        if not 0 < self.port < 65536:
            raise ConfigError(f"port {self.port} is not a TCP port; use 1-65535")
        picture_outputs(self.picture_cat062_to, "picture_cat062_to", need_host=True)
        picture_outputs(self.picture_sbs_listen, "picture_sbs_listen", need_host=False)
        for name in ("picture_cat062_sac", "picture_cat062_sic", "picture_cat062_ttl"):
            if not 0 <= getattr(self, name) <= 255:
                raise ConfigError(f"setting {name} is {getattr(self, name)}; use 0-255")
        if self.picture_cat062_interface:
            try:
                ipaddress.IPv4Address(self.picture_cat062_interface)
            except ValueError:
                raise ConfigError(
                    f"setting picture_cat062_interface is {self.picture_cat062_interface!r}; "
                    "give the IPv4 address of an interface of this host, e.g. 127.0.0.1"
                ) from None
        for name in ("disclosure_max_area_km2", "disclosure_max_duration_s"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"setting {name} is {getattr(self, name)}; give a number > 0")


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


def picture_outputs(text: str, name: str, *, need_host: bool) -> list[tuple[str, str, int]]:
    """``PARTY=HOST:PORT`` (or, where ``need_host`` is False, ``PARTY=PORT``, host 127.0.0.1)
    items of a picture-output setting, comma-separated, as (party, host, port)."""
    out: list[tuple[str, str, int]] = []
    shape = "PARTY=HOST:PORT" if need_host else "PARTY=PORT or PARTY=ADDRESS:PORT"
    for item in (i.strip() for i in text.split(",")):
        if not item:
            continue
        party, eq, where = (x.strip() for x in item.partition("="))
        host, colon, port_text = where.rpartition(":")
        if not colon:
            host, port_text = "", where
        host = host.strip("[]") or ("" if need_host else "127.0.0.1")
        if not eq or not party or not host or not port_text.isdigit():
            raise ConfigError(f"setting {name}: {item!r} is not {shape}; e.g. blue=127.0.0.1:8600")
        port = int(port_text)
        if not 0 < port < 65536:
            raise ConfigError(f"setting {name}: port {port} in {item!r}; use 1-65535")
        out.append((party, host, port))
    return out


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
