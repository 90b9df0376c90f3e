"""Timestamps without a zone are UTC at every edge, whatever the machine's ``TZ``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from deconflict.predict.daidalus.encounter import read_encounter
from deconflict.units import epoch_s

NOON = 1714564800.0  # 2024-05-01T12:00:00Z


@pytest.fixture(params=["Europe/Paris", "America/Los_Angeles", "Asia/Kolkata"])
def local_zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    assert time.timezone != 0  # the zone is really in force for this process
    yield request.param
    monkeypatch.undo()
    time.tzset()


def test_naive_times_are_utc(local_zone: str) -> None:
    assert epoch_s("2024-05-01T12:00:00") == NOON
    assert epoch_s("2024-05-01T12:00:00Z") == NOON
    assert epoch_s("2024-05-01T14:00:00+02:00") == NOON
    assert epoch_s(datetime(2024, 5, 1, 12)) == NOON
    assert epoch_s(datetime(2024, 5, 1, 12, tzinfo=UTC)) == NOON
    with pytest.raises(ValueError):
        epoch_s("noon")


def test_encounter_naive_iso_and_seconds_are_the_same_instant(local_zone: str) -> None:
    """An ownship stamped with a zone-less ISO string and an intruder stamped in seconds at the
    same instant are simultaneous: the intruder is not moved along its track."""
    own = {"id": "own", "latitude": 0.0, "longitude": 0.0, "altitude": 10000.0,
           "groundspeed": 200.0, "track": 0.0, "vertical_rate": 0.0}  # fmt: skip
    intr = {"id": "intr", "latitude": 0.0, "longitude": 0.1, "altitude": 10000.0,
            "groundspeed": 200.0, "track": 270.0, "vertical_rate": 0.0}  # fmt: skip
    plain = read_encounter({"ownship": own, "intruders": [intr]})
    stamped = read_encounter(
        {
            "ownship": dict(own, timestamp="2024-05-01T12:00:00"),
            "intruders": [dict(intr, timestamp=NOON)],
        }
    )
    assert stamped.intr_s.tolist() == plain.intr_s.tolist()
