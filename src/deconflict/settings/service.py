"""The shared service's and its feeds' configuration, :class:`Settings` (env ``DECONFLICT_*``).

Every setting of the host is declared here once, as data (name, type, default, help, choices),
with the checks that span settings; :func:`picture_outputs` reads the picture-output settings'
``PARTY=HOST:PORT`` items. Lengths are metres and times seconds, as everywhere inside Deconflict.
"""

from __future__ import annotations

import ipaddress
from typing import Self

from pydantic import model_validator

from deconflict.errors import ConfigError
from deconflict.settings.declared import Declared, setting

CONFLICT_RULES = ("reject", "accept-by-priority")
CONSTRAINT_RULES = ("reject", "flag")
FANOUTS = ("auto", "postgres", "none")
PICTURE_BUSES = ("auto", "nats", "postgres", "none")
SQLITE_SYNCHRONOUS = ("full", "normal")
IDENTIFICATION_DISCLOSURES = ("involved", "declared")
DISCLOSURES = ("open", "blind")
TRACK_SHARING = ("full", "anonymised", "in_conflict")


class Settings(Declared):
    """Everything the host of the shared service can set; every field has an env var."""

    database_url: str = setting(
        "sqlite:///deconflict.db",
        "SQLAlchemy URL of the store: `sqlite:///FILE`, `sqlite://` (in memory) or "
        "`postgresql+psycopg://USER@HOST/DB` (needs the `postgres` extra: "
        "`pip install 'deconflict[postgres]'`).",
    )
    sqlite_synchronous: str = setting(
        "full",
        "Durability of a SQLite store (WAL either way): `full` syncs the log to disk at every "
        "commit, so an acknowledged write survives a power cut or OS crash (one fsync a write); "
        "`normal` syncs at checkpoints only: a killed process loses nothing, a power cut may lose "
        "the last commits. Choose `normal` only on a disk whose fsync is slow and whose loss of "
        "the last seconds is acceptable.",
        SQLITE_SYNCHRONOUS,
    )
    host: str = setting("127.0.0.1", "Address `deconflict serve` binds.")
    port: int = setting(8700, "TCP port `deconflict serve` listens on.")
    admin_token: str = setting(
        "",
        "Bearer token of the host (admin endpoints). Empty: only admin tokens made with "
        "`deconflict party add NAME --admin` work.",
    )
    host_key_file: str = setting(
        "",
        "PEM file of the host's Ed25519 private key, which signs the service's log entries and "
        "checkpoints; made if missing. Empty: the key is kept in the store (made on the first "
        "start), so every restart and every instance on the store sign as one host. Its public "
        "key is logged once as the entry `host.key`; change it with `deconflict host-key "
        "rotate`, never by swapping the file (witnesses refuse a key the log did not hand over "
        "to).",
    )
    conflict_rule: str = setting(
        "reject",
        "What the procedures do with an operation that conflicts with another: `reject` it, or "
        "`accept-by-priority` (accepted as conflicting when its priority is higher than every "
        "conflicting operation's).",
        CONFLICT_RULES,
    )
    separation_standard: str = setting(
        "icao-5nm",
        "Separation standard whose minima widen the comparison of operations: two conflict "
        "where their volumes come closer than its horizontal and vertical minima while their "
        "times overlap (a name from `deconflict.predict.standards`, e.g. `icao-5nm`, "
        "`icao-3nm`, `do365`; `none`: volumes must overlap, InterUSS's rule).",
    )
    no_fly_rule: str = setting(
        "reject",
        "What happens to an operation entering a no-fly area: `reject` it (409), or `flag` it "
        "(accepted, flagged, and its owner notified).",
        CONSTRAINT_RULES,
    )
    restricted_rule: str = setting(
        "flag",
        "What happens to an operation entering a restricted area: `reject` or `flag`.",
        CONSTRAINT_RULES,
    )
    proximity_horizon_s: float = setting(
        120.0,
        "Area proximity warning: a track predicted to enter an airspace constraint within this "
        "many seconds raises an alert.",
    )
    poll_limit: int = setting(500, "Most events one poll of `/v1/events` returns.")
    fanout: str = setting(
        "auto",
        "How a write made through one service instance reaches the WebSocket clients of the "
        "others on the same database: `postgres` (LISTEN/NOTIFY on the log head, within "
        "milliseconds), `none` (each socket re-reads the store every second), `auto` "
        "(`postgres` when `database_url` is PostgreSQL, else `none`).",
        FANOUTS,
    )
    picture_bus: str = setting(
        "auto",
        "How the live picture goes from `deconflict engine` (its own process) to the WebSocket "
        "clients of every `deconflict serve` instance, encoded once per party and tick: `nats` "
        "(NATS JetStream at `nats_url`, a subject per party), `postgres` (a table row per party "
        "and NOTIFY), `none` (no picture from an engine process), `auto` (on PostgreSQL: `nats` "
        "where `nats_url` answers, else `postgres`; on SQLite: `none`, the demo's engine runs "
        "in-process).",
        PICTURE_BUSES,
    )
    nats_url: str = setting(
        "nats://127.0.0.1:4222",
        "NATS server (with JetStream) of the picture bus, `nats://HOST:PORT`; reachable only by "
        "the host's own processes, never by the parties.",
    )
    picture_json_parties: str = setting(
        "",
        "Parties whose live picture `GET /v1/live/aircraft.json` serves (readsb/tar1090 format), "
        "comma-separated; `*`: every party; empty: none (the endpoint answers 403). Each party "
        "gets only its own picture, with its bearer token in the `Authorization` header.",
    )
    picture_cat062_to: str = setting(
        "",
        "Where each party's live picture goes as ASTERIX CAT062 over UDP, one datagram per data "
        "block after every tick: `PARTY=HOST:PORT`, comma-separated (a party may have several; "
        "HOST may be a multicast group). UDP carries no authentication: only the destinations "
        "named here receive a picture, so name only hosts of that party. Empty: none.",
    )
    picture_cat062_sac: int = setting(0, "CAT062 System Area Code (I062/010) of the host, 0-255.")
    picture_cat062_sic: int = setting(
        1,
        "CAT062 System Identification Code (I062/010) of the host, 0-255.",
    )
    picture_cat062_ttl: int = setting(
        1,
        "Time to live (router hops) of CAT062 datagrams sent to a multicast group, 0-255.",
    )
    picture_cat062_interface: str = setting(
        "",
        "IPv4 address of the interface CAT062 datagrams to a multicast group leave by (e.g. "
        "`127.0.0.1` keeps them on this machine); empty: the system's multicast route.",
    )
    picture_sbs_listen: str = setting(
        "",
        "TCP ports that serve a party's live picture as SBS-1 BaseStation lines (what Virtual "
        "Radar Server reads): `PARTY=PORT` binds 127.0.0.1 (loopback only), `PARTY=ADDR:PORT` "
        "binds ADDR; comma-separated. A TCP stream carries no authentication: whoever reaches "
        "the port gets the party's picture, so bind beyond loopback only behind a firewall "
        "that admits that party alone. Empty: none.",
    )
    checkpoint_interval_s: float = setting(
        10.0,
        "The host signs a checkpoint of the log's Merkle tree at most this often (s), when the "
        "tree grew: every interval while the service runs, and when a party asks "
        "(`GET /v1/log/checkpoint`).",
    )
    checkpoint_quorum: int = setting(
        1,
        "How many parties must have cosigned a checkpoint (`deconflict witness`) before it "
        "counts: with more than half the parties, no two different histories can both count.",
    )
    log_origin: str = setting(
        "",
        "The checkpoints' origin line (C2SP tlog-checkpoint), e.g. `example.org/deconflict`. "
        "Empty: `deconflict.log/` and the first 16 hex digits of the log's first entry's hash.",
    )
    identification_disclosure: str = setting(
        "involved",
        "Who learns the outcome of an identification request besides the party that asked (the "
        "host, or the observing party on the live map) and the parties that claimed the track: "
        "`involved`: nobody (the others asked see it `pending`, then `closed`); `declared`: the "
        "others asked learn that the track is now declared, never by whom.",
        IDENTIFICATION_DISCLOSURES,
    )
    max_body_bytes: int = setting(
        1024 * 1024,
        "Largest request body (bytes) the service reads: a larger one is refused with 413 as its "
        "bytes arrive (at once when its Content-Length says so), never parsed. Bounds what one "
        "request parses on the event loop (about 0.1 s for 1 MiB); the largest valid operation "
        "(20,000 vertices) is about 0.8 MiB.",
    )
    max_message_chars: int = setting(
        16_000,
        "Largest hotline message body (characters of its canonical JSON) a party may send; a "
        "longer one is refused with 422 naming the limit.",
    )
    ws_send_timeout_s: float = setting(
        10.0,
        "A WebSocket client that does not take a message for this long is a slow consumer: it is "
        "dropped with close code 1013 and a reason saying where to resume (`after=SEQ`).",
    )
    disclosure: str = setting(
        "open",
        "How parties declare operations: `open` (the host holds their volumes and checks them; "
        "others see the parts that meet theirs) or `blind` (the host holds only a commitment "
        "and contact; parties check each other by private set intersection over space-time "
        "cells, through the host as a relay, and the host holds each declaration to the signed "
        "outcomes: `/v1/blind`, `deconflict agent`).",
        DISCLOSURES,
    )
    blind_cell_m: float = setting(
        5_000.0,
        "Blind mode: size of the horizontal cells (m) of the space-time grid (smaller: fewer "
        "false positives, more cells per check).",
    )
    blind_band_m: float = setting(609.6, "Blind mode: height of the altitude bands (m).")
    blind_slot_s: float = setting(3600.0, "Blind mode: length of the time slots (s).")
    disclosure_max_area_km2: float = setting(
        2500.0,
        "Largest declaration (km², the footprints of its volumes added up) that the service "
        "shows other parties' operations to: a declaration beyond it that meets operations whose "
        "tokens it lacks is refused (413) and shown nothing of them; one's accepted operations "
        "see what meets them whatever their size. 2,500 km² is the query-area limit of "
        "InterUSS's F3548 DSS.",
    )
    disclosure_max_duration_s: float = setting(
        86400.0,
        "Longest declaration (s, first start to last end) that the service shows other parties' "
        "operations to (as `disclosure_max_area_km2`).",
    )
    feeds: str = setting(
        "",
        "Host-side feeds `deconflict serve` connects to or listens on, each `PARTY=URL` "
        "(space- or comma-separated): `tcp://HOST:PORT` (reconnecting), `tcp-listen://`, "
        "`udp://` (a multicast group is joined), the format by port or `FORMAT+tcp://`; "
        "`--feed` adds to them. Their reports enter that party's live picture.",
    )
    feed_reference: str = setting(
        "",
        "Receiver position `LAT,LON` (deg) for local CPR decoding of the host-side Mode S "
        "feeds (positions more than 180 NM airborne, 45 NM on the surface from it are refused).",
    )
    feed_max_backoff_s: float = setting(
        2.0,
        "Longest wait (s) before a host-side `tcp://` feed dials its receiver again; the wait "
        "starts at 0.25 s, doubles after each fruitless try and starts over after a connection "
        "that delivered frames. Low suits receivers on the LAN or loopback.",
    )
    f3548_token_public_key: str = setting(
        "",
        "PEM file of the RSA public key that verifies the RS256 bearer tokens of the ASTM "
        "F3548-21 DSS API (`/dss/v1`). Empty: the DSS API answers 401 to every request.",
    )
    f3548_token_audience: str = setting(
        "",
        "The `aud` an F3548 token must carry (the DSS's host name). Empty: the host name the "
        "request was made to (its `Host` header without the port).",
    )
    track_sharing: str = setting(
        "full",
        "What the procedures let a party see of the tracks of other parties' aircraft in its "
        "live picture (its own aircraft and unidentified tracks are always shown in full): "
        "`full` (owner, callsign, icao24), `anonymised` (position and motion under a pseudonym "
        "stable for that viewer, no owner, callsign or icao24), `in_conflict` (in full, only "
        "while an alert of the party's own aircraft is about it).",
        TRACK_SHARING,
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
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
        return self


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
