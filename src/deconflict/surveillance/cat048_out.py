"""Radar plots to EUROCONTROL ASTERIX CAT048 (monoradar target reports, edition 1.32) data
blocks; input in the traffic library's units (deg, ft, kt, deg true), polar on the wire (NM, deg).

Pure and vectorised like ``cat062_out``: one numpy pass per item. The decoder of the same
category is ``deconflict.surveillance.asterix`` (which turns rho/theta back into a position with
the radar's site from the sensor configuration, ``deconflict.surveillance.sensors``).

Wire layout: a data block is ``CAT=48 (1 byte) | LEN (2 bytes, big endian, whole block) |
record | record ...``; a record is an FSPEC (7 field bits per octet, the last bit FX = another
octet follows) and the items present, in UAP order. Items written (FRN: item, bytes):

- 1: I048/010 data source, SAC and SIC (2);
- 2: I048/140 time of day, s since UTC midnight, LSB 1/128 s (3);
- 3: I048/020 target report descriptor: TYP (3 bits: 1 single PSR, 2 single SSR, 3 SSR +
  PSR, 5 Mode S roll-call, 7 Mode S roll-call + PSR), SIM/RDP/SPI/RAB = 0, FX = 0 (1);
- 4: I048/040 measured position in polar coordinates: RHO (slant range, unsigned 16 bits,
  LSB 1/256 NM) then THETA (azimuth, 16 bits, LSB 360/2^16 deg) (4);
- 5: I048/070 Mode 3/A code: V = G = L = 0, spare, 12 bits octal (2); with a squawk;
- 6: I048/090 flight level (Mode C, or Mode S altitude): V = G = 0, 14 bits signed,
  LSB 1/4 FL (2); for a transponder's reply with an altitude;
- 8: I048/220 aircraft address, 24 bits (3); with an ICAO address;
- 9: I048/240 aircraft identification, eight 6-bit ICAO characters (6); with a callsign;
- 11: I048/161 track number, 4 spare bits and 12 bits (2): the number modulo 4,096;
- 13: I048/200 calculated track velocity in polar coordinates: ground speed (16 bits, LSB
  2^-14 NM/s) then heading (16 bits, LSB 360/2^16 deg) (4); when known;
- 19: I048/110 height measured by a 3D radar: 2 spare bits, 14 bits signed, LSB 25 ft (2);
  for a primary-only return with a height.

The FSPEC is one octet, two when an item of FRN 8-14 is present, three with FRN 15-21. The
slant range and azimuth are computed from the position and height as the decoder inverts them
(``sensors.geographic_to_polar``), so a plot comes back within the items' LSBs: 1/256 NM in
range and 360/2^16 deg in azimuth (32 m across at 180 NM). Records are packed greedily into
blocks of at most ``max_block_bytes`` (1,400 by default, one UDP datagram under an Ethernet MTU).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from deconflict.errors import InputError
from deconflict.surveillance import asterix_fields as af
from deconflict.surveillance.picture_columns import float_column, text_column
from deconflict.surveillance.sensors import SensorSite, geographic_to_polar

CATEGORY: Final = 48
DAY_S: Final = 86400.0
RHO_LSB_NM: Final = 1.0 / 256.0
ANGLE_LSB_DEG: Final = 360.0 / 2**16
FL_LSB_FT: Final = 25.0  # 1/4 FL
HEIGHT_LSB_FT: Final = 25.0
SPEED_LSB_NM_S: Final = 2.0**-14
MAX_BLOCK_BYTES: Final = 1400
#: I048/020 TYP by (primary return, secondary reply, Mode S)
TYP_PSR, TYP_SSR, TYP_SSR_PSR, TYP_MODES, TYP_MODES_PSR = 1, 2, 3, 5, 7


def radar_sac_sic(site: SensorSite) -> tuple[int, int]:
    """SAC and SIC from a sensor id written ``"SAC/SIC"`` (as the decoder names radars)."""
    try:
        sac, sic = (int(v) for v in site.sensor.split("/"))
    except ValueError:
        raise InputError(
            f"radar {site.sensor!r}: a CAT048 radar's sensor id is 'SAC/SIC', e.g. '25/11'"
        ) from None
    if not (0 <= sac <= 255 and 0 <= sic <= 255):
        raise InputError(f"radar {site.sensor!r}: SAC and SIC are one byte each (0-255)")
    return sac, sic


def encode_cat048(
    plots: pd.DataFrame, site: SensorSite, max_block_bytes: int = MAX_BLOCK_BYTES
) -> list[bytes]:
    """One radar's plots as CAT048 data blocks (see the module docstring for the items).

    ``plots`` has one row per plot: ``time_s`` (Unix s of the plot), ``latitude``,
    ``longitude`` (deg), ``altitude`` (ft: a transponder's pressure altitude, or a 3D primary
    radar's height when the plot has no reply), ``secondary`` (bool: a transponder replied),
    optional ``primary`` (bool: a primary return; default True), ``icao24`` (hex, Mode S),
    ``callsign``, ``squawk`` (octal text), ``track_number``, ``groundspeed`` (kt), ``track``
    (deg true). ``site`` is the radar (its sensor id ``"SAC/SIC"``). Rows without a position
    are left out."""
    sac, sic = radar_sac_sic(site)
    lat, lon = float_column(plots, "latitude"), float_column(plots, "longitude")
    rows = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90.0))
    n = rows.size
    if n == 0:
        return []
    if "time_s" not in plots.columns or "secondary" not in plots.columns:
        raise InputError("CAT048 plots need time_s (Unix s) and secondary (bool) columns")
    time_s = plots["time_s"].to_numpy(dtype=np.float64)[rows]
    if not np.isfinite(time_s).all():
        raise InputError("CAT048 plots need a time (Unix s) each, not NaN")
    secondary = plots["secondary"].to_numpy(dtype=bool)[rows]
    primary = (
        plots["primary"].to_numpy(dtype=bool)[rows] if "primary" in plots.columns else ~secondary
    ) | ~secondary
    alt_ft = float_column(plots, "altitude")[rows]
    rho_nm, theta_deg = geographic_to_polar(site, lat[rows], lon[rows], alt_ft)
    icao, has_icao = af.hex24(text_column(plots, "icao24")[rows])
    has_icao &= secondary
    ident, has_ident = af.sixbit48(text_column(plots, "callsign")[rows])
    has_ident &= has_icao  # an aircraft identification comes from a Mode S reply
    squawk, has_squawk = af.squawk_codes(text_column(plots, "squawk")[rows])
    has_squawk &= secondary
    has_alt = np.isfinite(alt_ft)
    has_fl, has_height = has_alt & secondary, has_alt & ~secondary
    track_no = (
        plots["track_number"].to_numpy(dtype=np.float64)[rows]
        if "track_number" in plots.columns
        else np.full(n, np.nan)
    )
    has_track = np.isfinite(track_no)
    gs_kt, trk = float_column(plots, "groundspeed")[rows], float_column(plots, "track")[rows]
    has_vel = np.isfinite(gs_kt) & np.isfinite(trk)

    typ = np.where(
        has_icao,
        np.where(primary, TYP_MODES_PSR, TYP_MODES),
        np.where(secondary, np.where(primary, TYP_SSR_PSR, TYP_SSR), TYP_PSR),
    )
    tod = np.rint((time_s % DAY_S) * 128.0).astype(np.int64) % (1 << 24)
    rho = np.clip(np.rint(rho_nm / RHO_LSB_NM), 0, 0xFFFF).astype(np.int64)
    theta = np.rint(theta_deg / ANGLE_LSB_DEG).astype(np.int64) % (1 << 16)
    speed = np.clip(np.rint(np.nan_to_num(gs_kt) / 3600.0 / SPEED_LSB_NM_S), 0, 0xFFFF)
    heading = np.rint(np.nan_to_num(trk % 360.0) / ANGLE_LSB_DEG).astype(np.int64) % (1 << 16)
    fspec2 = has_icao | has_ident | has_track | has_vel
    fspec = np.zeros((n, 3), dtype=np.uint8)
    fspec[:, 0] = (
        0x80 | 0x40 | 0x20 | 0x10 | np.where(has_squawk, 0x08, 0) | np.where(has_fl, 0x04, 0)
        | np.where(fspec2 | has_height, 0x01, 0)
    )  # fmt: skip
    fspec[:, 1] = (
        np.where(has_icao, 0x80, 0) | np.where(has_ident, 0x40, 0)
        | np.where(has_track, 0x10, 0) | np.where(has_vel, 0x04, 0)
        | np.where(has_height, 0x01, 0)
    )  # fmt: skip
    fspec[:, 2] = np.where(has_height, 0x08, 0)
    ones = np.ones(n, dtype=bool)
    items: list[tuple[af.U8, NDArray[np.bool_]]] = [
        (fspec[:, :1], ones),
        (fspec[:, 1:2], fspec2 | has_height),
        (fspec[:, 2:], has_height),
        (np.tile(np.array([sac, sic], dtype=np.uint8), (n, 1)), ones),  # 010
        (af.be_bytes(tod, 3), ones),  # 140
        ((typ << 5).astype(np.uint8)[:, None], ones),  # 020
        (np.hstack([af.be_bytes(rho, 2), af.be_bytes(theta, 2)]), ones),  # 040
        (af.be_bytes(squawk & 0o7777, 2), has_squawk),  # 070
        (af.be_bytes(af.scaled(alt_ft, FL_LSB_FT, 14) & 0x3FFF, 2), has_fl),  # 090
        (af.be_bytes(icao, 3), has_icao),  # 220
        (af.be_bytes(ident, 6), has_ident),  # 240
        (af.be_bytes(np.nan_to_num(track_no).astype(np.int64) % 4096, 2), has_track),  # 161
        (np.hstack([af.be_bytes(speed.astype(np.int64), 2), af.be_bytes(heading, 2)]),
         has_vel),  # 200
        (af.be_bytes(af.scaled(alt_ft, HEIGHT_LSB_FT, 14) & 0x3FFF, 2), has_height),  # 110
    ]  # fmt: skip
    return af.pack_records(items, n, CATEGORY, max_block_bytes)
