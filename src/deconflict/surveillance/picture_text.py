"""A picture in the text formats of ADS-B receivers: SBS-1 BaseStation lines (what Virtual Radar
Server and plotting tools read from port 30003) and a readsb/tar1090 ``aircraft.json``; input
and output in the traffic library's units (deg, ft, kt, deg true, ft/min), times UTC/Unix s.

Addresses: a track with an ICAO 24-bit address is named by it; one without (a radar-only track)
by ``~`` and its track number in six hex digits, as dump1090 and readsb name non-ICAO addresses.

SBS (layout in ``deconflict.surveillance.sbs``, the decoder): per track, an ``MSG,1``
identification line when its callsign is known, an ``MSG,3`` airborne position line (altitude,
latitude, longitude), an ``MSG,4`` airborne velocity line (ground speed, track, vertical rate)
when known and an ``MSG,6`` surveillance identity line when the squawk is known (its emergency
flag set for 7500, 7600 and 7700; alert and SPI ``0``); fields filled and formatted as
dump1090-mutability writes them (22 fields, callsign padded to 8, latitude/longitude with 5
decimals, whole ft, kt, deg and ft/min, on-ground ``0`` on airborne lines), lines ended by CR LF.

``aircraft.json``: ``now`` (Unix s of the picture), ``messages`` (a counter the caller keeps,
whose rate tar1090 shows) and ``aircraft``, one object per track with readsb's names: ``hex``,
``type`` (``tisb_icao`` / ``tisb_trackfile``: a ground system's track, with or without an ICAO
address), ``flight``, ``alt_baro``, ``gs``, ``track``, ``baro_rate``, ``squawk``, ``lat``,
``lon``, ``seen_pos``, ``seen``. A field whose value is unknown is left out, as readsb does.
The positions are the tracker's estimate at ``now``, so ``seen`` and ``seen_pos`` are 0.
``receiver.json`` (``receiver_json``) is the one tar1090 reads before them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from deconflict.errors import InputError
from deconflict.surveillance.picture_columns import float_column, text_column


def _texts_list(frame: pd.DataFrame, column: str) -> list[str]:
    return [str(v) for v in text_column(frame, column).tolist()]


def addresses(picture: pd.DataFrame) -> list[str]:
    """Each track's address: its ICAO address (lower-case hex), else ``~`` and its track
    number (24 bits, hex)."""
    icao = _texts_list(picture, "icao24")
    if "track_id" in picture.columns:
        ids = picture["track_id"].to_numpy(dtype=np.int64) & 0xFFFFFF
    else:
        ids = np.arange(len(picture), dtype=np.int64)
    out = []
    for a, t in zip(icao, ids, strict=True):
        ok = len(a) == 6 and all(c in "0123456789abcdefABCDEF" for c in a)
        out.append(a.lower() if ok else f"~{int(t):06x}")
    return out


def _num(value: float, fmt: str) -> str:
    return format(value, fmt) if np.isfinite(value) else ""


def encode_sbs(picture: pd.DataFrame, time_s: float) -> bytes:
    """The picture as SBS-1 BaseStation lines at ``time_s`` (Unix s; see the module docstring).
    Rows without a position are left out."""
    if not np.isfinite(time_s):
        raise InputError("SBS lines need the picture's time (Unix s), not NaN")
    when = pd.Timestamp(time_s, unit="s", tz="UTC")
    stamp = f"{when:%Y/%m/%d},{when:%H:%M:%S}.{when.microsecond // 1000:03d}"
    head = "{},1,1,{},1," + stamp + "," + stamp + ","
    lat, lon = float_column(picture, "latitude"), float_column(picture, "longitude")
    alt, gs = float_column(picture, "altitude"), float_column(picture, "groundspeed")
    trk, vr = float_column(picture, "track"), float_column(picture, "vertical_rate")
    calls = _texts_list(picture, "callsign")
    squawks = _texts_list(picture, "squawk")
    lines: list[str] = []
    for i, address in enumerate(addresses(picture)):
        if not (np.isfinite(lat[i]) and np.isfinite(lon[i])):
            continue
        hexid = address.upper()
        sq = squawks[i].zfill(4) if squawks[i] else ""
        if calls[i]:
            lines.append(head.format("MSG,1", hexid) + f"{calls[i]:<8},,,,,,,,,,,0")
        lines.append(
            head.format("MSG,3", hexid)
            + f",{_num(alt[i], '.0f')},,,{lat[i]:.5f},{lon[i]:.5f},,,,,,0"
        )
        if np.isfinite(gs[i]) and np.isfinite(trk[i]):
            lines.append(
                head.format("MSG,4", hexid)
                + f",,{gs[i]:.0f},{trk[i] % 360.0:.0f},,,{_num(vr[i], '.0f')},,,,,0"
            )
        if sq:
            emergency = "-1" if sq in ("7500", "7600", "7700") else "0"
            lines.append(head.format("MSG,6", hexid) + f",,,,,,,{sq},0,{emergency},0,")
    return "".join(line + "\r\n" for line in lines).encode("ascii", "replace")


def aircraft_json(picture: pd.DataFrame, time_s: float, messages: int) -> dict[str, Any]:
    """The picture as readsb's ``aircraft.json`` object (see the module docstring)."""
    if not np.isfinite(time_s):
        raise InputError("aircraft.json needs the picture's time (Unix s), not NaN")
    lat, lon = float_column(picture, "latitude"), float_column(picture, "longitude")
    alt, gs = float_column(picture, "altitude"), float_column(picture, "groundspeed")
    trk, vr = float_column(picture, "track"), float_column(picture, "vertical_rate")
    calls = _texts_list(picture, "callsign")
    squawks = _texts_list(picture, "squawk")
    aircraft: list[dict[str, Any]] = []
    for i, address in enumerate(addresses(picture)):
        a: dict[str, Any] = {
            "hex": address,
            "type": "tisb_trackfile" if address.startswith("~") else "tisb_icao",
        }
        if calls[i]:
            a["flight"] = f"{calls[i]:<8}"
        if np.isfinite(alt[i]):
            a["alt_baro"] = round(float(alt[i]))
        if np.isfinite(gs[i]):
            a["gs"] = round(float(gs[i]), 1)
        if np.isfinite(trk[i]):
            a["track"] = round(float(trk[i]) % 360.0, 2)
        if np.isfinite(vr[i]):
            a["baro_rate"] = round(float(vr[i]))
        if squawks[i]:
            a["squawk"] = squawks[i].zfill(4)
        if np.isfinite(lat[i]) and np.isfinite(lon[i]):
            a["lat"], a["lon"] = round(float(lat[i]), 6), round(float(lon[i]), 6)
            a["seen_pos"] = 0.0
        a["seen"] = 0.0
        aircraft.append(a)
    return {"now": round(float(time_s), 1), "messages": int(messages), "aircraft": aircraft}


def receiver_json(version: str, refresh_s: float) -> dict[str, Any]:
    """readsb's ``receiver.json``, which tar1090 reads first: the software's version, how often
    ``aircraft.json`` changes (ms) and how many history files there are (none here). No
    ``lat``/``lon``: a fused picture has no one receiver site."""
    return {"version": version, "refresh": round(refresh_s * 1000), "history": 0}
