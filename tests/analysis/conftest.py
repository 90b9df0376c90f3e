"""Helpers for the analysis tests: straight constant-speed tracks written as traffic-style files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deconflict.geo import destination_deg


def track(
    icao: str,
    lat0: float,
    lon0: float,
    azimuth_deg: float,
    speed_mps: float,
    alt_ft: float,
    t_s: np.ndarray,
    t_ref_s: float = 0.0,
    callsign: str | None = None,
) -> pd.DataFrame:
    """A geodesic track through (lat0, lon0) at ``t_ref_s``, in traffic's columns and units."""
    dist = speed_mps * (np.asarray(t_s, dtype=float) - t_ref_s)
    lat, lon = destination_deg(lat0, lon0, np.full(dist.shape, azimuth_deg), dist)
    return pd.DataFrame(
        {
            "timestamp": pd.to_datetime(np.asarray(t_s) * 1e9, utc=True),
            "icao24": icao,
            "callsign": callsign or icao.upper(),
            "latitude": lat,
            "longitude": lon,
            "altitude": np.full(dist.shape, float(alt_ft)),
            "groundspeed": np.full(dist.shape, speed_mps / 0.514444),
            "track": np.full(dist.shape, azimuth_deg % 360),
            "vertical_rate": 0.0,
        }
    )


@pytest.fixture()
def make_track() -> Callable[..., pd.DataFrame]:
    """The ``track`` function, for tests (test modules cannot import this conftest)."""
    return track


@pytest.fixture()
def write_tracks(tmp_path: Path) -> Callable[..., Path]:
    """Write frames to one Parquet file in tmp_path; returns its path."""

    def write(*frames: pd.DataFrame, name: str = "tracks.parquet") -> Path:
        path = tmp_path / name
        pd.concat(frames, ignore_index=True).to_parquet(path)
        return path

    return write
