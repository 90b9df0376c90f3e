"""The live picture from the engine process to every service instance: the picture bus.

``deconflict engine`` encodes each party's picture once per tick (``picture_wire``, the same
compressed frame the in-process demo sends) and publishes the bytes; every ``deconflict serve``
instance subscribes, keeps the newest frame of each party and relays it, undecoded, to that
party's WebSockets (``picture_relay``). Two transports, chosen by the ``picture_bus`` setting:

``nats`` (NATS JetStream): one subject per party, ``deconflict.picture.<store>.<party>``
(``<store>`` names the store by its first log entry: two deployments on one NATS server never
mix), in an in-memory stream that keeps the last message of each subject
(``max_msgs_per_subject=1``, 30 s ``max_age``), so an instance that starts late gets each
party's newest picture at once and never one older than 30 s. The server pushes each frame to
every instance; the database is not touched. What ``/v1/live/session`` describes to a party (the
scene: parties, bases, areas, the history the slider reaches) goes as a small JSON message on
``<subject>.scene``, republished every ``SCENE_EVERY_S`` so that it outlives ``max_age``.

``postgres``: each party's frame is upserted into the unlogged table ``picture_frame`` (one row
per party) and ``NOTIFY deconflict_picture`` carries its number in the same transaction; each
instance LISTENs and reads the rows newer than the last it read. A NOTIFY payload is limited to
8,000 bytes, hence the row; the scenes are rows of ``picture_scene``, numbered from the same
sequence. Needs nothing beyond the database.

Why NATS first: measured on the same 10,000-track frames (``bench/picture_bus_fanout.py``,
docs/perf/fanout.md), JetStream delivered at p50 4.6 ms / p99 29 ms against 19.6 / 45 ms for the
table and NOTIFY, and under two busy-loop processes 13 / 57 ms against 101 / 187 ms, at about the
same client CPU per frame; and it keeps 0.5 MB a second of frames off the database that carries
the signed log. So ``auto`` (on PostgreSQL) publishes on NATS where ``nats_url`` answers and on
PostgreSQL otherwise (with a warning), and an instance listens on both. On SQLite ``auto`` is
``none``: the embedded default runs the engine in-process and needs nothing installed. A bus named
explicitly that cannot be reached is an error saying what to do. Times are seconds.

This module holds what both sides share: the subjects and their party tokens, the store's name
on the bus, the transports the settings choose, and the NATS connection with its stream. The
engine's side is ``picture_publisher``; an instance's, ``picture_relay``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from deconflict.errors import ConfigError
from deconflict.settings import Settings

SUBJECT_PREFIX = "deconflict.picture"
STREAM = "DECONFLICT_PICTURE"
STREAM_MAX_AGE_S = 30.0
PG_CHANNEL = "deconflict_picture"
CONNECT_TIMEOUT_S = 2.0
RETRY_S = 1.0
SCENE_EVERY_S = 10.0  # the scene is published again this often (wall s), under the stream's max_age

log = logging.getLogger(__name__)

_SAFE = re.compile(r"[A-Za-z0-9_-]+")


def subject_token(party: str) -> str:
    """The party's name as one NATS subject token (names outside ``[A-Za-z0-9_-]``, or starting
    ``_x``, hex-encoded behind ``_x``; a subject never mixes two parties)."""
    if _SAFE.fullmatch(party) and not party.startswith("_x"):
        return party
    return "_x" + party.encode().hex()


def party_of_token(token: str) -> str:
    """The inverse of :func:`subject_token`."""
    return bytes.fromhex(token[2:]).decode() if token.startswith("_x") else token


def subject_of(namespace: str, party: str, scene: bool = False) -> str:
    """The party's frames' subject, or (``scene``) its scene's."""
    return f"{SUBJECT_PREFIX}.{namespace}.{subject_token(party)}" + (".scene" if scene else "")


def store_namespace(store: Any) -> str:
    """The store's name on the bus: a digest of its first log entry (the same for the engine and
    every instance on that store, different for another store)."""
    first = store.log(after=-1, limit=1)
    seed = first[0].hash if first else "empty"
    return hashlib.sha256(str(seed).encode()).hexdigest()[:16]


def bus_kinds(settings: Settings) -> list[str]:
    """The transports to try, in order, for these settings: ``["nats", "postgres"]`` for
    ``auto`` on PostgreSQL, ``[]`` for ``none`` (and ``auto`` on another database)."""
    is_pg = sa.make_url(settings.database_url).get_backend_name() == "postgresql"
    kind = settings.picture_bus
    if kind == "postgres" and not is_pg:
        raise ConfigError(
            f"picture_bus 'postgres' needs a PostgreSQL database_url, not "
            f"{settings.database_url!r}; set DECONFLICT_PICTURE_BUS=nats, auto or none"
        )
    if kind == "auto":
        return ["nats", "postgres"] if is_pg else []
    return [] if kind == "none" else [kind]


def nats_unreachable(url: str, exc: BaseException) -> ConfigError:
    return ConfigError(
        f"the picture bus is NATS but no NATS server answers at {url} "
        f"({exc or type(exc).__name__}): "
        "start one with JetStream (nats-server -js), set DECONFLICT_NATS_URL, or set "
        "DECONFLICT_PICTURE_BUS=postgres"
    )


async def connect_nats(url: str) -> Any:
    """A NATS connection with JetStream and the picture stream made (or updated)."""
    import nats
    from nats.js.api import DiscardPolicy, StorageType, StreamConfig
    from nats.js.errors import BadRequestError

    async def quiet(exc: Exception) -> None:  # reconnections are logged once, not traced
        log.warning("picture bus: NATS at %s: %s", url, exc)

    parsed = urlsplit(url if "://" in url else f"nats://{url}")
    try:
        # one attempt first: the client itself retries for ever (reconnections after a restart)
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(parsed.hostname or "127.0.0.1", parsed.port or 4222),
            CONNECT_TIMEOUT_S,
        )
        writer.close()
        nc = await asyncio.wait_for(
            nats.connect(
                url,
                connect_timeout=CONNECT_TIMEOUT_S,
                max_reconnect_attempts=-1,
                allow_reconnect=True,
                reconnect_time_wait=RETRY_S,
                error_cb=quiet,
            ),
            3 * CONNECT_TIMEOUT_S,
        )
    except Exception as exc:  # OSError, TimeoutError, or nats' own errors
        raise nats_unreachable(url, exc) from None
    try:
        js = nc.jetstream()
        config = StreamConfig(
            name=STREAM,
            subjects=[f"{SUBJECT_PREFIX}.>"],
            storage=StorageType.MEMORY,
            max_msgs_per_subject=1,
            max_age=STREAM_MAX_AGE_S,
            discard=DiscardPolicy.OLD,
        )
        try:
            await js.add_stream(config)
        except BadRequestError:
            await js.update_stream(config)
    except Exception as exc:
        await nc.close()
        raise ConfigError(
            f"the NATS server at {url} has no JetStream ({exc}): start it with -js, or set "
            "DECONFLICT_PICTURE_BUS=postgres"
        ) from None
    return nc
