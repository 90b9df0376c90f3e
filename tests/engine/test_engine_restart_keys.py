"""An engine restarted on the store keeps the key of an unknown track in a restricted area: the
tracks a new engine starts are numbered above the keys the log names, and the track found in the
area of an open area alert takes that alert's key back, so the alert is carried on (not cleared
and raised again) and the map shows the same key before and after the restart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from deconflict.engine.areas import RestrictedArea
from deconflict.engine.desk import Desk, register_parties
from deconflict.engine.engine import Engine
from deconflict.hotline.keys import Signer, generate_private_key
from deconflict.store import hotline as log
from deconflict.store import open_store
from deconflict.surveillance.report import REPORT_DTYPES

T0 = 1_700_000_000.0
AREA = RestrictedArea("R-1", "R-1 range", [(36.0, 37.0), (36.3, 37.0), (36.3, 37.4), (36.0, 37.4)],
                      0.0, 25_000.0)  # fmt: skip


class BlueRadar:
    """Blue's radar: its track numbers ``numbers`` (aircraft with no transponder), each flying
    east at 200 kt from its start; the last ``inside`` start inside R-1 (at 36.15° N, then
    0.1° further north each), the others far outside."""

    def __init__(self, numbers: list[int], inside: int = 1) -> None:
        self.numbers, self.inside = numbers, inside

    def poll(self, now: pd.Timestamp) -> pd.DataFrame:
        t = (now.value / 1e9 - T0) if now.value / 1e9 > T0 else 0.0
        n, k = len(self.numbers), self.inside
        lat = np.array([34.0 + 0.2 * i for i in range(n - k)] + [36.15 + 0.1 * i for i in range(k)])
        lon = np.full(n, 37.05) + t * 200 * 1852 / 3600 / (111_320 * np.cos(np.radians(36.15)))
        rows = {
            "timestamp": pd.Series([now] * n, dtype="datetime64[ns, UTC]"),
            "party": "blue", "sensor": "radar", "source": "asterix",
            "icao24": pd.NA, "callsign": pd.NA, "squawk": pd.NA,
            "track_number": self.numbers,
            "latitude": lat, "longitude": lon, "altitude": 8_000.0, "groundspeed": 200.0,
            "track": 90.0, "vertical_rate": 0.0, "accuracy_m": 50.0,
        }  # fmt: skip
        return pd.DataFrame(rows).astype(REPORT_DTYPES)


def _key_in_area(engine: Engine) -> str:
    pic = engine.picture("blue")
    inside = pic[(pic["latitude"] - 36.15).abs() < 0.01]
    assert len(inside) == 1 and inside["identity"].iloc[0] in ("unknown", "pending"), pic
    return str(inside["key"].iloc[0])


def test_the_unknown_track_in_a_restricted_area_keeps_its_key_and_alert_across_a_restart(
    tmp_path: Path,
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'k.db'}")
    try:
        keys = {p: Signer(p, generate_private_key()) for p in ("blue", "red")}
        parties, _ = register_parties(store, keys)

        def engine(numbers: list[int]) -> Engine:
            desk = Desk(store, parties, keys)
            return Engine(["blue", "red"], [BlueRadar(numbers)], areas=[AREA], desk=desk)

        # the first engine tracks three other aircraft before the one in the area
        first = engine([11, 12, 13, 14])
        for s in range(20):
            first.tick(pd.Timestamp(T0 + s, unit="s", tz="UTC"))
        before = _key_in_area(first)
        [raised] = [e for e in log.entries(store, "alert.raised") if e.payload["kind"] == "area"]
        assert raised.payload["own_key"] == before and raised.payload["area"] == "R-1"
        head = store.log(after=-1, limit=1_000_000)[-1].seq

        # killed; the next engine sees only the aircraft in the area (its tracks start again)
        second = engine([14])
        assert second.recovered.area_alerts == 1
        for s in range(21, 60):
            second.tick(pd.Timestamp(T0 + s, unit="s", tz="UTC"))
            if s > 23:  # the track confirmed and found in the area
                assert _key_in_area(second) == before
        after = [e for e in store.log(after=head, limit=1_000_000) if e.kind.startswith("alert.")]
        assert after == [], [(e.kind, e.payload) for e in after]  # neither cleared nor raised
        assert [a.key for a in second.alerts.area_alerts.values()] == [before]
        assert second.alerts.area_alerts[(before, "R-1")].alert_id == raised.payload["alert_id"]
    finally:
        store.close()


def test_two_unknown_tracks_in_one_area_are_not_guessed_apart_after_a_restart(
    tmp_path: Path,
) -> None:
    """The log holds no position for an area alert: with two unknown tracks in the area the new
    engine cannot tell which was which, so neither takes an old key (no key moves to another
    aircraft); both old alerts are cleared and the tracks alerted under new keys."""
    store = open_store(f"sqlite:///{tmp_path / 'k2.db'}")
    try:
        keys = {p: Signer(p, generate_private_key()) for p in ("blue", "red")}
        parties, _ = register_parties(store, keys)

        def engine(numbers: list[int]) -> Engine:
            desk = Desk(store, parties, keys)
            return Engine(["blue", "red"], [BlueRadar(numbers, inside=2)], areas=[AREA], desk=desk)

        first = engine([11, 12, 13, 14])
        for s in range(20):
            first.tick(pd.Timestamp(T0 + s, unit="s", tz="UTC"))
        old = {a.key for a in first.alerts.area_alerts.values()}
        assert len(old) == 2
        second = engine([13, 14])
        for s in range(21, 60):
            second.tick(pd.Timestamp(T0 + s, unit="s", tz="UTC"))
        now = {a.key for a in second.alerts.area_alerts.values()}
        assert len(now) == 2 and not now & old
        assert not set(second.picture("blue")["key"]) & old
        area = [e for e in store.log(after=-1, limit=1_000_000)
                if e.kind.startswith("alert.") and e.payload.get("kind") == "area"]  # fmt: skip
        assert sorted(e.kind for e in area) == ["alert.cleared"] * 2 + ["alert.raised"] * 4
    finally:
        store.close()
