"""The simulator's sensors on the wire: each sensor a loopback server speaking its real format,
read back through the feed client a real site uses (``deconflict.surveillance.source``); times UTC
at the edges, Unix s on the wire.

``WireSimSource`` is a report source of the live engine like ``SimSource``, but what the
simulated sensors see goes out as bytes and comes back decoded:

- ADS-B receivers (``adsb``): Beast binary with GPS timestamps (``surveillance.modes_out``):
  per report a DF17 airborne position (CPR, even and odd in turn per aircraft; altitude in 25 ft
  steps) and an airborne velocity, and every ``IDENT_EVERY`` reports an identification (callsign)
  and a DF5 identity reply (squawk);
- radars (``ssr``, ``radar``): ASTERIX CAT048 plots (``surveillance.cat048_out``), polar from
  the radar's site, SAC 0 and SIC its rank among the scenario's radars; Mode C altitudes as the
  simulator quantised them (100 ft, Mode S 25 ft), a 3D radar's height for a primary-only plot;
- own-fleet data links (``link``): SBS-1 BaseStation lines, one ``MSG,3`` line per report with
  every field (an aircraft without an ICAO address is named ``~`` and six hex digits).

Each sensor listens on 127.0.0.1 (an ephemeral port); the feed client connects to it as to a
receiver (``beast+tcp://...?clock=gps&hold_ms=0``). ``poll(now)`` flies the simulator to
``now``, sends what each sensor saw, waits until the feed client has decoded every frame sent
(``FeedSource.wait_delivered``; at most ``timeout_s``), and returns the feeds' reports up to
``now``: the engine sees the simulation only through the decoders, in fast or real time alike.
The decoders place times of day on the simulation's clock (``DecodeOptions.clock``).

Reports differ from the in-memory path (``SimSource``) as the formats make them: an ADS-B
position, velocity, identification and squawk are separate reports; CAT048 carries no vertical
rate; positions come back within the formats' resolution (CPR 17 bits: about 5 m; CAT048
1/256 NM and 360/2^16 deg; SBS 5 decimals).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from deconflict.errors import FeedError
from deconflict.sim.scenario import SensorSpec
from deconflict.sim.simulator import Simulator
from deconflict.sim.source import SimSource
from deconflict.surveillance import modes_out
from deconflict.surveillance.asterix_fields import hex24, squawk_codes
from deconflict.surveillance.base import DecodeOptions
from deconflict.surveillance.cat048_out import encode_cat048
from deconflict.surveillance.feed_urls import parse_feed
from deconflict.surveillance.picture_columns import float_column, text_column
from deconflict.surveillance.sensors import SensorConfig, SensorSite
from deconflict.surveillance.source import FeedSource, PartyFeed

#: An ADS-B aircraft's identification and squawk go out with every this many of its reports.
IDENT_EVERY: Final = 5
FORMATS: Final = {"adsb": "beast", "ssr": "asterix", "radar": "asterix", "link": "sbs"}
RADAR_SAC: Final = 0


@dataclass
class _Sensor:
    spec: SensorSpec
    listener: socket.socket
    conn: socket.socket | None = None
    sent: int = 0  # frames sent so far


class WireSimSource:
    """The simulator as a report source through the wire formats (see the module docstring).

    ``current`` gives the simulator to fly (a served demo starts a fresh one every cycle:
    ``lambda: session.simulator``). ``record``: keep what each sensor sent and the in-memory
    reports it encoded (``sent``, ``encoded``; tests)."""

    def __init__(
        self, current: Callable[[], Simulator], timeout_s: float = 10.0, record: bool = False
    ) -> None:
        self.current = current
        self.timeout_s = timeout_s
        self.record = record
        self.sent: dict[str, list[bytes]] = {}
        self.encoded: dict[str, list[pd.DataFrame]] = {}
        self._sim = current()
        self._inner = SimSource(self._sim)
        scenario = self._sim.scenario
        self.now = scenario.start
        radars = [s for s in scenario.sensors if s.kind in ("ssr", "radar")]
        self.sites = {
            s.id: SensorSite(f"{RADAR_SAC}/{k + 1}", s.lat, s.lon, 0.0, s.party)
            for k, s in enumerate(radars)
        }
        self.sensors: list[_Sensor] = []
        feeds: list[PartyFeed] = []
        for spec in scenario.sensors:
            listener = socket.create_server(("127.0.0.1", 0))
            listener.settimeout(timeout_s)
            port = listener.getsockname()[1]
            fmt = FORMATS[spec.kind]
            clock = "&clock=gps" if fmt == "beast" else ""
            url = f"{fmt}+tcp://127.0.0.1:{port}?hold_ms=0{clock}"
            feeds.append(PartyFeed(spec.party, parse_feed(url), sensor=spec.id))
            self.sensors.append(_Sensor(spec, listener))
        options = DecodeOptions(
            reference=scenario.center,
            sensors=SensorConfig({site.sensor: site for site in self.sites.values()}),
            clock=lambda: self.now,
        )
        self.feeds = FeedSource(feeds, options)
        self._parity: dict[str, int] = {}  # ADS-B reports sent per aircraft
        self.feeds.start()
        try:
            for sensor in self.sensors:
                sensor.conn, _ = sensor.listener.accept()
        except OSError as exc:
            self.close()
            raise FeedError(f"the simulated sensors' feeds did not connect: {exc}") from exc

    def fleets(self) -> dict[str, set[str]]:
        return self._inner.fleets()

    def poll(self, now: pd.Timestamp) -> pd.DataFrame:
        sim = self.current()
        if sim is not self._sim:  # a new cycle of the scenario's traffic
            self._sim, self._inner = sim, SimSource(sim)
        self.now = pd.Timestamp(now)
        truth = self._inner.poll(now)
        plain = truth.copy()
        for col in ("sensor", "icao24", "callsign", "squawk"):  # arrow strings: slow per access
            plain[col] = truth[col].astype(object).where(truth[col].notna(), None)
        names = plain["sensor"].to_numpy()
        for sensor in self.sensors:
            mine = names == sensor.spec.id
            if not mine.any():
                continue
            rows = plain[mine]
            data, frames = self._encode(sensor.spec, rows)
            if not frames:
                continue
            assert sensor.conn is not None
            try:
                sensor.conn.sendall(data)
            except OSError as exc:
                raise FeedError(f"simulated sensor {sensor.spec.id}: send failed ({exc})") from exc
            sensor.sent += frames
            if self.record:
                self.sent.setdefault(sensor.spec.id, []).append(data)
                self.encoded.setdefault(sensor.spec.id, []).append(rows)
        if not self.feeds.wait_delivered([s.sent for s in self.sensors], self.timeout_s):
            raise FeedError(
                f"the simulated sensors' frames were not decoded within {self.timeout_s} s: "
                f"{self.feeds.status()}"
            )
        return self.feeds.poll(now)

    def _encode(self, spec: SensorSpec, rows: pd.DataFrame) -> tuple[bytes, int]:
        """The wire bytes of one sensor's reports and how many frames (messages, plots,
        lines) they hold."""
        time_s = rows["timestamp"].astype("int64").to_numpy() / 1e9
        if spec.kind == "adsb":
            return self._beast(rows, time_s)
        if spec.kind == "link":
            text = sbs_lines(rows)
            return text, text.count(b"\n")
        plots = pd.DataFrame(
            {
                "time_s": time_s,
                "latitude": float_column(rows, "latitude"),
                "longitude": float_column(rows, "longitude"),
                "altitude": float_column(rows, "altitude"),
                "secondary": rows["squawk"].notna().to_numpy(dtype=bool),
                "primary": np.full(len(rows), spec.kind == "radar"),
                "icao24": rows["icao24"],
                "callsign": rows["callsign"],
                "squawk": rows["squawk"],
                "track_number": rows["track_number"].astype("float64").to_numpy(),
                "groundspeed": float_column(rows, "groundspeed"),
                "track": float_column(rows, "track"),
            }
        )
        site = self.sites[spec.id]
        blocks = encode_cat048(plots, site)
        return b"".join(blocks), len(plots)

    def _beast(self, rows: pd.DataFrame, time_s: np.ndarray) -> tuple[bytes, int]:
        address, ok = hex24(text_column(rows, "icao24"))
        keys = text_column(rows, "icao24")
        seen = np.array([self._parity.get(str(k), 0) for k in keys], dtype=np.int64)
        for k in keys[ok]:
            self._parity[str(k)] = self._parity.get(str(k), 0) + 1
        idx = np.flatnonzero(ok)
        if idx.size == 0:
            return b"", 0
        a, t = address[idx], time_s[idx]
        lat, lon = float_column(rows, "latitude")[idx], float_column(rows, "longitude")[idx]
        alt = float_column(rows, "altitude")[idx]
        groups: list[tuple[np.ndarray, np.ndarray]] = []
        placed = np.isfinite(lat) & np.isfinite(lon) & np.isfinite(alt)
        odd = (seen[idx] % 2).astype(bool)
        positions = modes_out.airborne_position(
            a[placed], lat[placed], lon[placed], alt[placed], odd[placed]
        )
        groups.append((positions, t[placed]))
        gs, trk = float_column(rows, "groundspeed")[idx], float_column(rows, "track")[idx]
        moving = np.isfinite(gs) & np.isfinite(trk)
        vr = float_column(rows, "vertical_rate")[idx]
        velocities = modes_out.airborne_velocity(a[moving], gs[moving], trk[moving], vr[moving])
        groups.append((velocities, t[moving]))
        due = seen[idx] % IDENT_EVERY == 0
        calls = text_column(rows, "callsign")[idx]
        named = due & (np.char.str_len(calls) > 0)
        groups.append((modes_out.identification(a[named], calls[named]), t[named]))
        codes, has_code = squawk_codes(text_column(rows, "squawk")[idx])
        coded = due & has_code
        groups.append((modes_out.identity_reply(a[coded], codes[coded]), t[coded]))
        return modes_out.beast_stream(groups), sum(len(m) for m, _ in groups)

    def close(self) -> None:
        """Stop the feeds and close the sensors' sockets."""
        self.feeds.stop()
        for sensor in self.sensors:
            for sock in (sensor.conn, sensor.listener):
                if sock is not None:
                    sock.close()


def sbs_lines(rows: pd.DataFrame) -> bytes:
    """One SBS-1 ``MSG,3`` line per report with every field filled (dump1090's formats: whole
    ft, kt, deg and ft/min, 5 decimals of a degree), CR LF ended."""
    stamps = pd.DatetimeIndex(rows["timestamp"]).tz_convert("UTC")
    day = stamps.strftime("%Y/%m/%d")
    clock = stamps.strftime("%H:%M:%S.") + pd.Index(
        [f"{us // 1000:03d}" for us in stamps.microsecond]
    )
    icao, calls = text_column(rows, "icao24"), text_column(rows, "callsign")
    squawk = text_column(rows, "squawk")
    lat, lon = float_column(rows, "latitude"), float_column(rows, "longitude")
    alt, gs = float_column(rows, "altitude"), float_column(rows, "groundspeed")
    trk, vr = float_column(rows, "track"), float_column(rows, "vertical_rate")

    def num(value: float, digits: int = 0) -> str:
        return f"{value:.{digits}f}" if np.isfinite(value) else ""

    lines = []
    for i in range(len(rows)):
        if not (np.isfinite(lat[i]) and np.isfinite(lon[i])):
            continue
        hexid = icao[i].upper() if len(icao[i]) == 6 else f"~{_hash24(calls[i]):06X}"
        stamp = f"{day[i]},{clock[i]}"
        lines.append(
            f"MSG,3,1,1,{hexid},1,{stamp},{stamp},{calls[i]},{num(alt[i])},{num(gs[i])},"
            f"{num(trk[i] % 360.0)},{lat[i]:.5f},{lon[i]:.5f},{num(vr[i])},{squawk[i]},0,0,0,0"
        )
    return "".join(line + "\r\n" for line in lines).encode("ascii", "replace")


def _hash24(text: str) -> int:
    """A stable 24-bit number for a name (a non-ICAO address, as dump1090 writes them)."""
    value = 0
    for ch in text.encode():
        value = (value * 131 + ch) & 0xFFFFFF
    return value
