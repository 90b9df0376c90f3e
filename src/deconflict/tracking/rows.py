"""The tracker's output in edge units: track states (``TrackRows``, the track-update table) and
each track's identifiers (``identities_frame``).

Inside, states are SI in the local frame; out, positions are degrees, altitudes ft, speeds kt,
track degrees true and vertical rates ft/min.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from deconflict.tracking.batch import TRACK_UPDATE_COLUMNS, TRACK_UPDATE_DTYPES
from deconflict.tracking.config import TrackerConfig
from deconflict.tracking.frame import LocalFrame
from deconflict.tracking.table import STATUS_NAMES, TrackTable
from deconflict.units import FPM, FT, KT

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
Obj = NDArray[np.object_]

__all__ = ["TrackRows", "identities_frame", "rows_at"]


@dataclass
class TrackRows:
    """Track states in edge units, one row per track: the arrays behind a track-update table."""

    t_s: F64
    track_id: I64
    status: NDArray[np.int8]
    lat_deg: F64
    lon_deg: F64
    alt_ft: F64
    gs_kt: F64
    track_deg: F64
    vrate_fpm: F64
    icao24: Obj
    callsign: Obj
    identity: Obj

    @staticmethod
    def concat(parts: list[TrackRows]) -> TrackRows:
        """Rows of several updates, in order."""
        if not parts:
            return TrackRows(
                *(np.empty(0, dtype=d) for d in ("f8", "i8", "i1", *["f8"] * 6, "O", "O", "O"))
            )
        return TrackRows(
            *(np.concatenate([getattr(p, name) for p in parts]) for name in TrackRows_fields)
        )

    def frame(self) -> pd.DataFrame:
        """The track-update table (``TRACK_UPDATE_COLUMNS``)."""
        ts = pd.to_datetime(np.round(self.t_s * 1e9).astype(np.int64), unit="ns", utc=True)
        data = {
            "timestamp": ts,
            "track_id": self.track_id,
            "status": np.asarray(STATUS_NAMES, dtype=object)[self.status.astype(np.int64)],
            "latitude": self.lat_deg,
            "longitude": self.lon_deg,
            "altitude": self.alt_ft,
            "groundspeed": self.gs_kt,
            "track": self.track_deg,
            "vertical_rate": self.vrate_fpm,
            "icao24": self.icao24,
            "callsign": self.callsign,
            "identity": self.identity,
        }
        out = pd.DataFrame(data)
        for col, dtype in TRACK_UPDATE_DTYPES.items():
            if dtype == "string":
                out[col] = out[col].astype("string")
        return out.loc[:, list(TRACK_UPDATE_COLUMNS)]


TrackRows_fields: Final = (
    "t_s",
    "track_id",
    "status",
    "lat_deg",
    "lon_deg",
    "alt_ft",
    "gs_kt",
    "track_deg",
    "vrate_fpm",
    "icao24",
    "callsign",
    "identity",
)


def identity_state(table: TrackTable, rows: I64, now_s: float, stale_after_s: float) -> Obj:
    """``fresh``, ``stale`` or ``none``: how recently each row's icao24 or callsign was heard."""
    last = np.fmax(table.icao24_t[rows], table.callsign_t[rows])
    code = np.where(now_s - last <= stale_after_s, 0, 1)  # NaN compares False: stale
    code[~np.isfinite(last)] = 2
    return _IDENTITY_STATES[code]  # the three str objects, not a new one per row


_IDENTITY_STATES = np.array(["fresh", "stale", "none"], dtype=object)


def rows_at(
    table: TrackTable,
    rows: I64,
    at_s: F64,
    frame: LocalFrame | None,
    config: TrackerConfig,
    now_s: float,
) -> TrackRows:
    """Track rows ``rows`` predicted to ``at_s`` (one time per row), in edge units."""
    dt = at_s - table.t[rows]
    xy = table.x[rows, :2] + dt[:, None] * table.x[rows, 2:]
    frame = frame or LocalFrame(0.0, 0.0)
    lat, lon = frame.to_latlon(xy)
    trk, gs = frame.track_speed_at(lat, lon, table.x[rows, 2:])
    # altitude is extrapolated for at most the coast time, and unknown after the drop time
    age = at_s - table.alt_t[rows]
    ok = table.alt_ok[rows] & (age <= config.drop_after_s)
    adt = age.clip(0.0, config.coast_after_s)
    alt = np.where(ok, table.alt_x[rows, 0] + adt * table.alt_x[rows, 1], np.nan)
    vr = np.where(ok, table.alt_x[rows, 1], np.nan)
    return TrackRows(
        t_s=at_s,
        track_id=table.ids[rows].copy(),
        status=table.status[rows].copy(),
        lat_deg=lat,
        lon_deg=lon,
        alt_ft=alt / FT,
        gs_kt=gs / KT,
        track_deg=trk,
        vrate_fpm=vr / FPM,
        icao24=table.icao24[rows].copy(),
        callsign=table.callsign[rows].copy(),
        identity=identity_state(table, rows, now_s, config.identity_stale_after_s),
    )


def identities_frame(table: TrackTable) -> pd.DataFrame:
    """Per track: first seen, and each identifier (icao24, callsign, squawk, claimed owner)
    with the time it was last confirmed."""
    n = table.n

    def ts(a: F64) -> pd.Series:
        return pd.Series(pd.to_datetime(np.round(a * 1e9), unit="ns", utc=True))

    return pd.DataFrame(
        {
            "track_id": table.ids[:n].copy(),
            "status": np.asarray(STATUS_NAMES, dtype=object)[table.status[:n].astype(int)],
            "first_seen": ts(table.t_first[:n]),
            "icao24": pd.array(table.icao24[:n], dtype="string"),
            "icao24_time": ts(table.icao24_t[:n]),
            "callsign": pd.array(table.callsign[:n], dtype="string"),
            "callsign_time": ts(table.callsign_t[:n]),
            "squawk": pd.array(table.squawk[:n], dtype="string"),
            "squawk_time": ts(table.squawk_t[:n]),
            "owner": pd.array(table.owner[:n], dtype="string"),
            "owner_time": ts(table.owner_t[:n]),
        }
    )
