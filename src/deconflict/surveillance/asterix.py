"""EUROCONTROL ASTERIX CAT021 (ADS-B), CAT048 (monoradar plots) and CAT062 (system tracks) to
reports, through the aviconv-asterix codec; output in ft, kt, deg, ft/min, times UTC.

Wire layout: a stream (file, UDP datagram, pcap payload) is a sequence of data blocks::

    CAT (1 byte) | LEN (2 bytes, big endian, whole block incl. these 3) | record | record ...

and each record is an FSPEC (bit map of the items present, 7 bits per octet plus an extension
bit) followed by the items in the category's UAP order. Items used here:

- CAT021 ed. 2.6: I021/010 SAC/SIC, I021/071-073 time of applicability/reception, I021/080
  target address, I021/130 lat/lon, I021/145 flight level, I021/160 ground speed and track
  angle, I021/170 callsign, I021/070 Mode 3/A.
- CAT048 ed. 1.32: I048/010 SAC/SIC, I048/140 time of day, I048/040 slant range rho (NM) and
  azimuth theta (deg), I048/070 Mode 3/A, I048/090 flight level, I048/220 aircraft address,
  I048/240 callsign, I048/161 track number, I048/200 ground speed and heading, I048/110 a 3D
  radar's measured height (the altitude of a plot without a flight level). Positions are
  polar: they become latitude/longitude only with the radar's site from the sensor
  configuration (``deconflict.surveillance.sensors``); without it the plot is still reported,
  without a position, with a ``no-sensor-site`` warning.
- CAT062 ed. 1.20: I062/010 SAC/SIC, I062/070 time of track, I062/105 WGS84 position, I062/185
  velocity (vx, vy m/s), I062/136 measured flight level, I062/040 track number, I062/060 Mode
  3/A, I062/220 rate of climb (6.25 ft/min LSB), I062/380 target address and identification.

Times of day (s since UTC midnight) are put on the day that brings them nearest the reference
time: the capture time of a pcap packet, else ``start_time``. Other categories (CAT034, CAT065)
are counted, not reported. Errors (position = byte offset, or packet index for pcap):
``truncated`` (a block longer than the data left), ``bad-block`` (the codec refused the block).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any, Final

import aviconv_asterix
import numpy as np
import pandas as pd

from deconflict.surveillance.base import (
    DecodeOptions,
    Decoder,
    DecodeResult,
    ErrorLog,
    StreamDecoder,
    make_result,
    register,
)
from deconflict.surveillance.report import empty_reports, reports_frame
from deconflict.surveillance.sensors import SensorConfig, polar_to_geographic
from deconflict.units import KT

REPORTED: Final = frozenset({21, 48, 62})
DAY_S: Final = 86400.0


#: Categories EUROCONTROL has assigned (a header with another one is taken for garbage).
KNOWN_CATEGORIES: Final = frozenset(
    {1, 2, 4, 8, 9, 10, 11, 15, 16, 17, 18, 19, 20, 21, 23, 25, 30, 31, 32, 34, 48, 62, 63, 65}
    | {150, 205, 240, 247, 252}
)


def _header_ok(data: bytes, pos: int) -> bool:
    if len(data) - pos < 3 or data[pos] not in KNOWN_CATEGORIES:
        return False
    length = int.from_bytes(data[pos + 1 : pos + 3], "big")
    return length >= 4 and pos + length <= len(data)


def _block_decodes(block: bytes) -> bool:
    try:
        return len(list(aviconv_asterix.iter_records(block))) > 0
    except Exception:  # any codec failure means "not a block"
        return False


def _resync(data: bytes, start: int) -> int | None:
    """First offset from ``start`` where the stream picks up again after garbage: a plausible
    header whose block decodes (CAT021/048/062), or, for other categories, whose chain of
    headers runs exactly to the end of the data or for three blocks."""
    for pos in range(start, len(data)):
        if not _header_ok(data, pos):
            continue
        length = int.from_bytes(data[pos + 1 : pos + 3], "big")
        if data[pos] in REPORTED:
            if _block_decodes(data[pos : pos + length]):
                return pos
            continue
        hop, hops = pos, 0
        while hop < len(data) and hops < 3 and _header_ok(data, hop):
            hop += int.from_bytes(data[hop + 1 : hop + 3], "big")
            hops += 1
        if hop == len(data) or hops == 3:
            return pos
    return None


def split_blocks(data: bytes, errors: ErrorLog, base: int = 0) -> Iterator[tuple[int, bytes]]:
    """(offset, block) of each whole data block. After an impossible header (unknown category,
    length too short or past the end) the stream is searched for the next block (``_resync``):
    the bytes skipped are one ``garbage`` error; if none is found, ``truncated``."""
    pos = 0
    while pos < len(data):
        if _header_ok(data, pos):
            length = int.from_bytes(data[pos + 1 : pos + 3], "big")
            yield pos, data[pos : pos + length]
            pos += length
            continue
        again = _resync(data, pos + 1)
        if again is None:
            left = len(data) - pos
            errors.add(
                base + pos,
                "truncated",
                f"{left} bytes left that hold no whole ASTERIX block",
                data[pos : pos + 32],
            )
            return
        errors.add(base + pos, "garbage", f"{again - pos} bytes outside any block", data[pos:again])
        pos = again


def _on_day(tod_s: float | None, reference: pd.Timestamp) -> pd.Timestamp | None:
    if tod_s is None:
        return None
    midnight = reference.normalize()
    when = midnight + pd.Timedelta(seconds=tod_s)
    offset = (when - reference).total_seconds()
    if offset > DAY_S / 2:
        when -= pd.Timedelta(days=1)
    elif offset < -DAY_S / 2:
        when += pd.Timedelta(days=1)
    return when


def _raw_int(record: Any, item: str, bits: int, signed: bool = False) -> int | None:
    text = record.raw_items.get(item)
    if not text:
        return None
    value = int(text, 16) & ((1 << bits) - 1)
    if signed and value >= 1 << (bits - 1):
        value -= 1 << bits
    return value


def _fl_ft(value: float | None) -> float:
    return float("nan") if value is None else float(value) * 100.0


def _num(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def record_row(record: Any, reference: pd.Timestamp, options: DecodeOptions) -> dict[str, Any]:
    """One decoded record to a report dict (CAT048 without position; see ``_place_plots``)."""
    sensor = f"{record.sac}/{record.sic}"
    row: dict[str, Any] = {
        "party": options.party,
        "sensor": options.sensor or sensor,
        "source": f"asterix-cat{record.category:03d}",
    }
    if record.category == 21:
        tod = record.time_of_applicability_s
        row |= {
            "timestamp": _on_day(tod if tod is not None else record.time_of_reception_s, reference),
            "icao24": record.icao_address,
            "callsign": record.callsign,
            "squawk": record.mode3a,
            "latitude": _num(record.lat),
            "longitude": _num(record.lon),
            "altitude": _fl_ft(record.flight_level),
            "groundspeed": _num(record.ground_speed_kt),
            "track": _num(record.track_angle_deg),
        }
    elif record.category == 48:
        height = _raw_int(record, "I048/110", 14, signed=True)  # a 3D radar's, LSB 25 ft
        row |= {
            "timestamp": _on_day(record.time_of_day_s, reference),
            "icao24": record.aircraft_address,
            "callsign": record.callsign,
            "squawk": record.mode3a,
            "track_number": record.track_number,
            "altitude": (
                _fl_ft(record.flight_level)
                if record.flight_level is not None or height is None
                else height * 25.0
            ),
            "groundspeed": _num(record.ground_speed_kt),
            "track": _num(record.heading_deg),
            "_rho_nm": record.rho_nm,
            "_theta_deg": record.theta_deg,
            "_site": sensor,
        }
    else:  # 62
        vx, vy = record.vx_ms, record.vy_ms
        speed = track = float("nan")
        if vx is not None and vy is not None:
            speed = float(np.hypot(vx, vy)) / KT
            track = float(np.degrees(np.arctan2(vx, vy)) % 360.0)
        mode3a = _raw_int(record, "I062/060", 12)
        rate = _raw_int(record, "I062/220", 16, signed=True)
        row |= {
            "timestamp": _on_day(record.time_of_track_s, reference),
            "icao24": record.target_address,
            "callsign": record.target_identification or record.callsign,
            "squawk": None if mode3a is None else f"{mode3a:04o}",
            "track_number": _raw_int(record, "I062/040", 16),
            "latitude": _num(record.lat),
            "longitude": _num(record.lon),
            "altitude": _fl_ft(record.measured_flight_level),
            "groundspeed": speed,
            "track": track,
            "vertical_rate": float("nan") if rate is None else rate * 6.25,
        }
    if isinstance(row.get("icao24"), str):
        row["icao24"] = row["icao24"].lower()
    return row


def _place_plots(
    rows: list[dict[str, Any]],
    sensors: SensorConfig | None,
    errors: ErrorLog,
    where: list[int],
    counts: Counter[str],
) -> None:
    """Georeference CAT048 plots, radar by radar (vectorised per radar)."""
    by_site: dict[str, list[int]] = {}
    for k, row in enumerate(rows):
        if "_site" in row:
            by_site.setdefault(row.pop("_site"), []).append(k)
    for site_id, index in by_site.items():
        site = sensors.get(site_id) if sensors is not None else None
        rho = np.array([_num(rows[k].pop("_rho_nm")) for k in index])
        theta = np.array([_num(rows[k].pop("_theta_deg")) for k in index])
        if site is None:
            counts["plots_without_site"] += len(index)
            for k in index:
                errors.warn(where[k], "no-sensor-site", f"no site for radar {site_id} in sensors")
            continue
        alt = np.array([rows[k]["altitude"] for k in index])
        lat, lon = polar_to_geographic(site, rho, theta, alt)
        for j, k in enumerate(index):
            rows[k]["latitude"] = lat[j]
            rows[k]["longitude"] = lon[j]
            if site.party and not rows[k]["party"]:
                rows[k]["party"] = site.party


def decode_blocks(
    data: bytes,
    options: DecodeOptions,
    reference: pd.Timestamp,
    *,
    position: int | None = None,
    base: int = 0,
) -> DecodeResult:
    """Decode the data blocks of one buffer (file, datagram, pcap payload).

    Error records cite ``position`` if given (a pcap packet index), else byte offsets."""
    errors = ErrorLog()
    counts: Counter[str] = Counter()
    rows: list[dict[str, Any]] = []
    where: list[int] = []
    for offset, block in split_blocks(data, errors, base):
        cat = block[0]
        counts[f"cat{cat:03d}_blocks"] += 1
        at = position if position is not None else base + offset
        if cat not in REPORTED:
            continue
        try:
            records = list(aviconv_asterix.iter_records(block))
        except Exception as exc:  # the codec raises ParseError, pydantic errors, ...
            errors.add(at, "bad-block", f"CAT{cat:03d} block: {exc}"[:300], block[:64])
            continue
        for record in records:
            counts[f"cat{cat:03d}_records"] += 1
            rows.append(record_row(record, reference, options))
            where.append(at)
    _place_plots(rows, options.sensors, errors, where, counts)
    no_time = [k for k, r in enumerate(rows) if r["timestamp"] is None]
    for k in no_time:
        errors.add(where[k], "bad-time", "record without a time of day")
    rows = [r for r in rows if r["timestamp"] is not None]
    if position is not None:
        errors.rows = [(position, lv, k, m, r) for _, lv, k, m, r in errors.rows]
    result = make_result(reports_frame(rows) if rows else empty_reports(), errors, 0, counts)
    result.counts["frames"] = len(rows) + len(no_time)
    return result


class AsterixStream(StreamDecoder):
    """Incremental ASTERIX decoder for a byte stream: a block split across chunks waits."""

    def __init__(self, options: DecodeOptions) -> None:
        self.options = options
        self.pending = b""
        self.offset = 0

    def feed(self, chunk: bytes, arrival_ns: int | None = None) -> DecodeResult:
        data = self.pending + chunk
        pos = 0
        while len(data) - pos >= 3:
            length = int.from_bytes(data[pos + 1 : pos + 3], "big")
            if length < 3:  # impossible header: hand everything left to the decoder to report
                pos = len(data)
                break
            if pos + length > len(data):
                break
            pos += length
        whole, self.pending = data[:pos], data[pos:]
        base = self.offset
        self.offset += pos
        return decode_blocks(whole, self.options, self.options.start(), base=base)

    def close(self) -> DecodeResult:
        rest, self.pending = self.pending, b""
        return decode_blocks(rest, self.options, self.options.start(), base=self.offset)


def decode_asterix(data: bytes, options: DecodeOptions = DecodeOptions()) -> DecodeResult:
    """Decode a file of bare ASTERIX data blocks (times of day placed near ``start_time``)."""
    return decode_blocks(data, options, options.start())


def sniff_asterix(head: bytes) -> bool:
    """ASTERIX if the first block header is a reported category with a length that fits."""
    if len(head) < 3 or head[0] not in REPORTED | {34, 65}:
        return False
    length = int.from_bytes(head[1:3], "big")
    return length > 3 and (length == len(head) or length + 3 <= len(head) or len(head) >= 4096)


ASTERIX = register(
    Decoder(
        key="asterix",
        description="ASTERIX CAT021/048/062 data blocks (files, UDP payloads)",
        decode=decode_asterix,
        sniff=sniff_asterix,
        stream=AsterixStream,
        suffixes=(".ast", ".asterix", ".raw"),
    )
)
