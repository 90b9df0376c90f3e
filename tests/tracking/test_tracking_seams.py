"""The tracker's parts after the split (table, association, filters, identity, life cycle, rows)
seen through its public seams, on real ADS-B (quickstart.parquet, around Paris).

``Tracker.ingest`` (what the engine calls: no output rows) must leave the tracker exactly as
``update_batch`` does; the error records of a set of reports carry each report's own time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deconflict.tracking import Tracker, TrackerConfig, TrackRows, report_batch

pytestmark = [pytest.mark.real_data]

STEP_S = 10.0


@pytest.fixture(scope="module")
def first_half_hour(real_data: Path) -> pd.DataFrame:
    q = pd.read_parquet(real_data / "traffic" / "quickstart.parquet")
    q = q[q["timestamp"] < q["timestamp"].min() + pd.Timedelta(minutes=30)]
    return q.assign(party="p", sensor="adsb").reset_index(drop=True)


def _same_rows(a: TrackRows, b: TrackRows) -> None:
    for name in TrackRows.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        assert x.shape == y.shape, name
        if x.dtype == object:
            assert x.tolist() == y.tolist(), name
        else:
            np.testing.assert_array_equal(x, y, err_msg=name)


def test_ingest_leaves_the_tracker_as_update_batch_does(first_half_hour: pd.DataFrame) -> None:
    q = first_half_hour
    a, b = Tracker(TrackerConfig()), Tracker(TrackerConfig())
    frame = a.ensure_frame(q["latitude"].to_numpy(float), q["longitude"].to_numpy(float))
    b.frame = frame
    batch = report_batch(q, frame)
    t0 = float(np.nanmin(batch.t_s))
    step = np.floor((batch.t_s - t0) / STEP_S).astype(np.int64)
    live = []
    for k in range(int(step.max()) + 1):
        now = t0 + (k + 1) * STEP_S
        sel = np.flatnonzero(step == k)
        out = a.update_batch(batch.take(sel), now)
        assert b.ingest(batch.take(sel), now) is None
        _same_rows(a.track_rows(now, live_only=False), b.track_rows(now, live_only=False))
        assert a.counters == b.counters
        assert set(out.track_id.tolist()) <= set(a.identities()["track_id"].tolist()) | set(
            out.track_id[out.status == 3].tolist()
        )
        live.append(a.track_rows(now).track_id.size)
    # the half hour holds real traffic: tracks confirmed, aircraft leaving, tracks dropped
    assert max(live) > 20
    assert a.counters["tracks_dropped"] > 0
    assert a.counters["identity_associations"] > 0.9 * a.counters["reports"]
    pd.testing.assert_frame_equal(a.identities(), b.identities())


def test_error_records_carry_each_report_s_own_time(first_half_hour: pd.DataFrame) -> None:
    q = first_half_hour.head(400).copy()
    # one aircraft's altitude jumps by 20,000 ft on a few reports, another reports 90,000 ft
    ac = q["icao24"].iloc[0]
    idx = q.index[q["icao24"] == ac][5:8]
    q.loc[idx, "altitude"] += 20_000
    other = q.index[q["icao24"] != ac][3]
    q.loc[other, "altitude"] = 90_000
    trk = Tracker(TrackerConfig())
    frame = trk.ensure_frame(q["latitude"].to_numpy(float), q["longitude"].to_numpy(float))
    batch = report_batch(q, frame)
    trk.update_batch(batch, float(np.nanmax(batch.t_s)) + 1.0)
    errs = trk.errors()
    rejected = errs[errs["kind"] == "altitude_rejected"]
    assert trk.counters["altitude_rejected"] == len(rejected) == len(idx) + 1
    assert sorted(rejected["row"].tolist()) == sorted([*idx.tolist(), int(other)])
    expected = pd.to_datetime(q.loc[rejected["row"], "timestamp"], utc=True).to_numpy()
    assert (rejected["time"].to_numpy() == expected).all()
    assert rejected["detail"].str.contains("ft").all()


def test_party_and_sensor_text_is_cleaned_once_per_value() -> None:
    """A report table's party and sensor columns (pandas' string dtype, few distinct values)
    are cleaned per distinct value: the same text as the general path (stripped; empty and
    missing become None), one str object per value; an object column takes the general path."""
    from deconflict.tracking.batch import _strings

    values = ["p0", " p1 ", None, "", "p0", pd.NA, "p1", "  "]
    col = pd.Series(values, dtype=pd.StringDtype())
    few, general = _strings(col, len(col), few=True), _strings(col, len(col))
    assert list(few) == list(general) == ["p0", "p1", None, None, "p0", None, "p1", None]
    assert few[0] is few[4]  # one object per raw value
    lower = _strings(pd.Series(["AB", "ab "], dtype=pd.StringDtype()), 2, lower=True, few=True)
    assert list(lower) == ["ab", "ab"]
    mixed = pd.Series([1, "1", 1.0, None], dtype=object)  # not text only: equal keys differ
    assert list(_strings(mixed, 4, few=True)) == list(_strings(mixed, 4)) == ["1", "1", "1.0", None]
