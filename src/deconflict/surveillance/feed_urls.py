"""Feed URLs: ``parse_feed`` reads one into a ``FeedSpec`` (which ``FeedSpec.url`` writes back)
for ``deconflict.surveillance.feeds.run_feed`` to run, with the defaults a URL may leave out (the
port's usual format, the batch hold).

A feed is named by a URL:

- ``tcp://HOST:PORT`` connect to a receiver (e.g. dump1090 port 30005 Beast, 30003 SBS, 30002 AVR)
  and reconnect when the connection fails, closes or stalls (no byte for ``stall_s``): after
  ``backoff_s``, doubling up to ``max_backoff_s`` (low: receivers are on the LAN or loopback),
  and back to ``backoff_s`` after a connection that delivered frames;
- ``tcp-listen://HOST:PORT`` accept receivers that push to us (one decoder per connection);
- ``udp://HOST:PORT`` bind and decode each datagram (ASTERIX over UDP is the usual case); a
  multicast group address (224.0.0.0/4) is joined (``udp://239.1.1.1:8600?iface=10.0.0.5``);
- ``FORMAT+SCHEME://...`` (``beast+tcp://``, ``asterix+udp://``) names the format; else
  ``--format``, else the port's usual one (30005 Beast, 30003 SBS, 30002 AVR);
- query parameters: ``?clock=gps`` reads Beast counters as GPS timestamps (Radarcape-style
  receivers, and the simulator's; see ``deconflict.surveillance.beast``); ``?hold_ms=N`` sets the
  batch hold (``BATCH_HOLD_S``: see ``deconflict.surveillance.feeds``) for this feed, e.g. 0 for a
  sender on loopback that writes whole batches;
- a file path: decode it and replay its reports in time order, ``speed`` times faster than real
  time (``speed=0``: as fast as the consumer takes them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import parse_qs, urlsplit

from deconflict.errors import InputError
from deconflict.surveillance.base import BEAST_CLOCKS, get_decoder

BATCH_HOLD_S: Final = 0.1
DEFAULT_PORT_FORMATS: Final[dict[int, str]] = {30005: "beast", 30003: "sbs", 30002: "avr"}


@dataclass(frozen=True)
class FeedSpec:
    """A parsed feed URL: kind ("tcp", "tcp-listen", "udp", "file"), host, port, path, the
    format the URL names (``beast+tcp://``), the multicast interface (``?iface=``), the Beast
    clock (``?clock=gps``) and the batch hold (``?hold_ms=``)."""

    kind: str
    host: str = ""
    port: int = 0
    path: Path | None = None
    format: str | None = None
    iface: str = "0.0.0.0"
    clock: str = "receiver"
    hold_s: float = BATCH_HOLD_S

    def default_format(self) -> str | None:
        return self.format or DEFAULT_PORT_FORMATS.get(self.port)

    def url(self) -> str:
        if self.kind == "file":
            return str(self.path)
        prefix = f"{self.format}+" if self.format else ""
        query = [f"iface={self.iface}"] if self.iface != "0.0.0.0" else []
        query += [f"clock={self.clock}"] if self.clock != "receiver" else []
        query += [f"hold_ms={self.hold_s * 1e3:g}"] if self.hold_s != BATCH_HOLD_S else []
        tail = "?" + "&".join(query) if query else ""
        return f"{prefix}{self.kind}://{self.host}:{self.port}{tail}"


def parse_feed(url: str) -> FeedSpec:
    """Parse a feed URL (see the module docstring); raises ``InputError``."""
    if "://" not in url:
        return FeedSpec("file", path=Path(url))
    parts = urlsplit(url)
    fmt, _, kind = parts.scheme.rpartition("+")
    if kind not in ("tcp", "tcp-listen", "udp", "file"):
        raise InputError(
            f"feed {url!r}: use tcp://, tcp-listen://, udp:// (optionally FORMAT+, e.g. "
            "beast+tcp://) or a file path"
        )
    if fmt:
        get_decoder(fmt)  # an unknown format is said now, with the known ones
    if kind == "file":
        return FeedSpec("file", path=Path(parts.path), format=fmt or None)
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        raise InputError(f"feed {url!r} has no valid port: write e.g. tcp://127.0.0.1:30005")
    query = parse_qs(parts.query)
    iface = query.get("iface", ["0.0.0.0"])[0]
    clock = query.get("clock", ["receiver"])[0]
    if clock not in BEAST_CLOCKS:
        raise InputError(f"feed {url!r}: clock={clock}; use one of {', '.join(BEAST_CLOCKS)}")
    try:
        hold_s = float(query.get("hold_ms", [BATCH_HOLD_S * 1e3])[0]) / 1e3
    except ValueError:
        hold_s = -1.0
    if not 0.0 <= hold_s <= 10.0:
        raise InputError(f"feed {url!r}: hold_ms is a number of milliseconds, 0 to 10,000")
    host = parts.hostname or "127.0.0.1"
    return FeedSpec(kind, host, port, format=fmt or None, iface=iface, clock=clock, hold_s=hold_s)
