"""ADS-B and Mode S replies out: aircraft states to DF17 extended squitters and DF5 identity
replies, framed as Beast binary with GPS timestamps; input in the traffic library's units (deg,
ft, kt, deg true, ft/min), times Unix s. Vectorised over aircraft (numpy), pure.

Frames (ICAO Annex 10 vol. IV, DO-260B; the decoder is ``deconflict.surveillance.modes``):

- DF17 (112 bits): ``DF=17 (5) | CA=5 (3) | AA address (24) | ME (56) | PI (24)``, PI the CRC-24
  of the first 88 bits (``deconflict.surveillance.crc``).
- ME TC 4, identification: ``TC (5) | category 0 (3) | eight 6-bit ICAO characters (48)``.
- ME TC 10, airborne position with barometric altitude (NUCp 8): ``TC (5) | SS 0 (2) | SAF 0
  (1) | ALT (12: the altitude in 25 ft steps above -1,000 ft, with the Q bit, bit 8, set) | T 0
  (1) | F (1: 0 even, 1 odd) | LAT-CPR (17) | LON-CPR (17)``. CPR (compact position reporting,
  DO-260B A.1.7): ``Dlat = 360 / (60 - F)``, ``YZ = floor(2^17 mod(lat, Dlat) / Dlat + 1/2)``,
  ``Rlat = Dlat (YZ / 2^17 + floor(lat / Dlat))``, ``Dlon = 360 / max(NL(Rlat) - F, 1)``,
  ``XZ = floor(2^17 mod(lon, Dlon) / Dlon + 1/2)``, both kept mod 2^17; ``NL`` the number of
  longitude zones at a latitude. An even and an odd message within 10 s decode globally; one
  decodes locally against a reference within 180 NM.
- ME TC 19 subtype 1, airborne velocity over ground (subsonic): ``TC (5) | ST 1 (3) | IC 0 |
  IFR 0 | NUCv 0 (3) | DEW (1: west) | VEW (10: |east kt| + 1) | DNS (1: south) | VNS (10) |
  VrSrc 1 (baro) | Svr (1: down) | VR (9: |rate| / 64 ft/min + 1) | 0 (2) | 0 (8)``.
- DF5 (56 bits), identity reply: ``DF=5 (5) | FS 0 (3) | DR 0 (5) | UM 0 (6) | ID (13: the Mode
  A code as C1 A1 C2 A2 C4 A4 X B1 D1 B2 D2 B4 D4) | AP (24: CRC-24 of the first 32 bits XOR
  the address)``.

Beast (``deconflict.surveillance.beast``): ``0x1a | '2' or '3' | counter (6 bytes) | signal (1)
| message``, each 0x1a after the type doubled. The counter here is a GPS timestamp (as Radarcape
receivers send): seconds since UTC midnight in its upper 18 bits, nanoseconds in its lower 30;
read it with ``DecodeOptions(beast_clock="gps")`` (feed URL ``...?clock=gps``).
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

from deconflict.surveillance.asterix_fields import be_bytes, sixbit48
from deconflict.surveillance.crc import residual

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
CPR_BITS: Final = 17
ALT_LSB_FT: Final = 25.0
TC_IDENT: Final = 4
TC_POSITION: Final = 10  # NUCp 8 (horizontal containment < 10 m)
TC_VELOCITY: Final = 19
NS_BITS: Final = 30  # GPS Beast timestamps: ns in the low 30 bits, s of day above
DAY_S: Final = 86400


def cpr_nl(lat_deg: F64) -> I64:
    """Number of longitude zones at each latitude (DO-260B A.1.7.2 d), 59 at the equator down
    to 1 beyond 87 deg."""
    a = np.abs(np.asarray(lat_deg, dtype=np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        cos2 = np.cos(np.radians(a)) ** 2
        arg = 1.0 - (1.0 - np.cos(np.pi / 30.0)) / np.maximum(cos2, 1e-300)
        nl = np.floor(2.0 * np.pi / np.arccos(np.clip(arg, -1.0, 1.0)))
    nl = np.where(a == 0.0, 59.0, nl)
    nl = np.where(a >= 87.0, np.where(a == 87.0, 2.0, 1.0), nl)
    return nl.astype(np.int64)


def cpr_encode(lat_deg: F64, lon_deg: F64, odd: NDArray[np.bool_]) -> tuple[I64, I64]:
    """17-bit airborne CPR latitude and longitude of each position (see the module docstring)."""
    f = odd.astype(np.float64)
    scale = float(1 << CPR_BITS)
    dlat = 360.0 / (60.0 - f)
    yz = np.floor(scale * np.mod(lat_deg, dlat) / dlat + 0.5)
    rlat = dlat * (yz / scale + np.floor(lat_deg / dlat))
    dlon = 360.0 / np.maximum(cpr_nl(rlat) - f, 1.0)
    xz = np.floor(scale * np.mod(lon_deg, dlon) / dlon + 0.5)
    mask = (1 << CPR_BITS) - 1
    return yz.astype(np.int64) & mask, xz.astype(np.int64) & mask


def _with_parity(head: NDArray[np.uint8], xor: I64 | None = None) -> NDArray[np.uint8]:
    """Frames: ``head`` (data bytes) then the CRC-24 of it (XOR ``xor``: AP replies)."""
    frames = np.hstack([head, np.zeros((head.shape[0], 3), dtype=np.uint8)])
    crc = residual(frames).astype(np.int64)
    frames[:, -3:] = be_bytes(crc if xor is None else crc ^ xor, 3)
    return frames


def _df17(address: I64, me: I64) -> NDArray[np.uint8]:
    first = np.full((address.size, 1), (17 << 3) | 5, dtype=np.uint8)
    return _with_parity(np.hstack([first, be_bytes(address, 3), be_bytes(me, 7)]))


def identification(address: I64, callsign: NDArray[np.str_]) -> NDArray[np.uint8]:
    """DF17 TC 4 identification messages (one row of 14 bytes each)."""
    chars, _ = sixbit48(callsign)
    return _df17(address, (np.int64(TC_IDENT) << 51) | chars)


def airborne_position(
    address: I64, lat_deg: F64, lon_deg: F64, altitude_ft: F64, odd: NDArray[np.bool_]
) -> NDArray[np.uint8]:
    """DF17 TC 10 airborne positions with barometric altitude (Q bit: 25 ft steps)."""
    n = np.clip(np.rint((altitude_ft + 1000.0) / ALT_LSB_FT), 0, (1 << 11) - 1).astype(np.int64)
    alt12 = ((n >> 4) << 5) | 0x10 | (n & 0xF)
    yz, xz = cpr_encode(lat_deg, lon_deg, odd)
    me = (
        (np.int64(TC_POSITION) << 51) | (alt12 << 36) | (odd.astype(np.int64) << 34)
        | (yz << 17) | xz
    )  # fmt: skip
    return _df17(address, me)


def airborne_velocity(
    address: I64, groundspeed_kt: F64, track_deg: F64, vertical_rate_fpm: F64
) -> NDArray[np.uint8]:
    """DF17 TC 19 subtype 1 velocities over ground (a NaN rate is sent as "no information")."""
    trk = np.radians(track_deg)
    east, north = groundspeed_kt * np.sin(trk), groundspeed_kt * np.cos(trk)
    vew = np.clip(np.rint(np.abs(east)), 0, 1021).astype(np.int64) + 1
    vns = np.clip(np.rint(np.abs(north)), 0, 1021).astype(np.int64) + 1
    has_vr = np.isfinite(vertical_rate_fpm)
    vr_abs = np.abs(np.nan_to_num(vertical_rate_fpm))
    vr = np.where(has_vr, np.clip(np.rint(vr_abs / 64.0), 0, 510).astype(np.int64) + 1, 0)
    down = (np.nan_to_num(vertical_rate_fpm) < 0).astype(np.int64)
    me = (
        (np.int64(TC_VELOCITY) << 51) | (np.int64(1) << 48)
        | ((east < 0).astype(np.int64) << 42) | (vew << 32)
        | ((north < 0).astype(np.int64) << 31) | (vns << 21)
        | (np.int64(1) << 20) | (down << 19) | (vr << 10)
    )  # fmt: skip
    return _df17(address, me)


def identity_reply(address: I64, squawk_code: I64) -> NDArray[np.uint8]:
    """DF5 identity replies carrying Mode A codes (``squawk_code``: the four octal digits as
    one number, e.g. 0o7700), parity XOR the address."""
    a, b = (squawk_code >> 9) & 7, (squawk_code >> 6) & 7
    c, d = (squawk_code >> 3) & 7, squawk_code & 7
    bit = [  # C1 A1 C2 A2 C4 A4 X B1 D1 B2 D2 B4 D4, most significant first
        c & 1, a & 1, (c >> 1) & 1, (a >> 1) & 1, (c >> 2) & 1, (a >> 2) & 1, 0 * a,
        b & 1, d & 1, (b >> 1) & 1, (d >> 1) & 1, (b >> 2) & 1, (d >> 2) & 1,
    ]  # fmt: skip
    id13 = np.zeros(address.size, dtype=np.int64)
    for value in bit:
        id13 = (id13 << 1) | value
    head = (np.int64(5) << 27) | id13  # DF 5, FS/DR/UM 0, then ID in the last 13 of 32 bits
    return _with_parity(be_bytes(head, 4), xor=address)


def gps_counters(time_s: F64) -> I64:
    """Beast GPS timestamps of Unix times: s of the UTC day << 30 | ns."""
    whole = np.floor(time_s)
    ns = np.clip(np.rint((time_s - whole) * 1e9), 0, 999_999_999).astype(np.int64)
    return ((whole.astype(np.int64) % DAY_S) << NS_BITS) | ns


def beast_frames(messages: NDArray[np.uint8], counters: I64, signal: int = 0xC0) -> bytes:
    """Beast frames of equal-length messages (7 or 14 bytes per row), 0x1a escaped."""
    if messages.shape[0] == 0:
        return b""
    kind = 0x33 if messages.shape[1] == 14 else 0x32
    body = np.hstack([
        np.full((messages.shape[0], 1), kind, dtype=np.uint8), be_bytes(counters, 6),
        np.full((messages.shape[0], 1), signal, dtype=np.uint8), messages,
    ])  # fmt: skip
    if not (body[:, 1:] == 0x1A).any():  # the usual case: nothing to escape
        out = np.hstack([np.full((body.shape[0], 1), 0x1A, dtype=np.uint8), body])
        return out.tobytes()
    return b"".join(
        b"\x1a" + bytes(r[:1]) + bytes(r[1:]).replace(b"\x1a", b"\x1a\x1a") for r in body
    )


def beast_stream(groups: list[tuple[NDArray[np.uint8], F64]], signal: int = 0xC0) -> bytes:
    """Beast frames of several groups of messages (each a matrix of equal-length messages and
    their Unix times), in time order (stable: at one time, in the order of the groups), with
    GPS timestamps, as a receiver sends them."""
    groups = [(m, t) for m, t in groups if m.shape[0]]
    if not groups:
        return b""
    times = np.concatenate([t for _, t in groups])
    frames: list[bytes] = []
    for messages, when in groups:
        data = beast_frames(messages, gps_counters(when), signal)
        width = 2 + 6 + 1 + messages.shape[1]
        if len(data) == width * messages.shape[0]:  # nothing escaped: fixed-size frames
            frames += [data[k : k + width] for k in range(0, len(data), width)]
        else:
            frames += [beast_frames(messages[k : k + 1], gps_counters(when[k : k + 1]), signal)
                       for k in range(messages.shape[0])]  # fmt: skip
    order = np.argsort(times, kind="stable")
    return b"".join(frames[k] for k in order)
