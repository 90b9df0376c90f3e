"""The Beast 12 MHz counter anchored to time: late frames, receiver restarts, garbage counters,
and a live feed anchored to the wall clock (the issue's scenarios, on a real DF17 frame)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.surveillance import DecodeOptions
from deconflict.surveillance.base import concat_results
from deconflict.surveillance.beast import TICKS_PER_S, BeastStream

START = pd.Timestamp("2024-07-06T06:00:00", tz="UTC")
# DF17 identification of 406b90 (EZY85MH), from pyModeS's real sample
MESSAGE = bytes.fromhex("8d406b902015a678d4d220aa4bda")


def frame(counter: int) -> bytes:
    body = counter.to_bytes(6, "big") + b"\x80" + MESSAGE
    return b"\x1a3" + body.replace(b"\x1a", b"\x1a\x1a")


def seconds(result_reports: pd.DataFrame) -> np.ndarray:
    return np.asarray((result_reports["timestamp"] - START).dt.total_seconds())


def decode_file(counters: list[int]) -> tuple[np.ndarray, dict[str, int]]:
    stream = BeastStream(DecodeOptions(start_time=START))
    result = concat_results([stream.feed(b"".join(map(frame, counters))), stream.close()])
    return seconds(result.reports), result.counts


def ticks(s: float) -> int:
    return round(s * TICKS_PER_S)


BASE = ticks(5000.0)  # the receiver's counter when the recording starts


def test_late_first_messages_are_reordering_not_new_epochs() -> None:
    # 4 minutes at 10 frames/s; every 2 s a new aircraft's first message arrives late with a
    # counter 1.5 s older (dump1090 holds it until the aircraft is confirmed)
    counters: list[int] = []
    expected: list[float] = []
    for k in range(2400):
        counters.append(BASE + ticks(k / 10))
        expected.append(k / 10)
        if k % 20 == 19:
            counters.append(BASE + ticks(k / 10 - 1.5))
            expected.append(k / 10 - 1.5)
    got, counts = decode_file(counters)
    assert np.abs(got - np.array(expected)).max() < 1e-6  # no drift: +26 s before this fix
    assert counts.get("warning:clock-jump", 0) == 0 and counts.get("warning:clock-outlier", 0) == 0


def test_receiver_restart_starts_one_new_epoch_carrying_time_on() -> None:
    before = [BASE + ticks(k) for k in range(10)]  # 0 .. 9 s
    after = [ticks(0.5 + k) for k in range(10)]  # the counter restarts near zero
    got, counts = decode_file(before + after)
    assert counts["warning:clock-jump"] == 1
    assert counts["warning:clock-outlier"] == 2  # until three frames confirm the new base
    assert np.allclose(got[:10], np.arange(10))
    # a file has no wall clock: time carries on from the last frame, then by the counter
    assert np.allclose(got[10:12], 9.0)
    assert np.allclose(got[12:], 9.0 + np.arange(2, 10))


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=2**48 - 1), min_size=1, max_size=5),
    st.integers(min_value=1, max_value=48),
)
def test_garbage_counters_do_not_move_the_clock(garbage: list[int], at: int) -> None:
    good = [BASE + ticks(k * 0.5) for k in range(50)]
    # garbage counters far from the receiver's (more than 30 s off) and from each other (random
    # bytes; three that follow on from each other would look like a receiver restart)
    far: list[int] = []
    for g in garbage:
        if all(abs(g - other) > ticks(7200) for other in [*far, BASE + ticks(at * 0.5)]):
            far.append(g)
    counters = good[:at] + far + good[at:]
    got, counts = decode_file(counters)
    clean = np.delete(got, range(at, at + len(far)))
    assert np.allclose(clean, np.arange(50) * 0.5)  # +1,948 s from garbage before this fix
    assert counts.get("warning:clock-outlier", 0) == len(far)
    assert counts.get("warning:clock-jump", 0) == 0


def _live(
    chunks: list[tuple[list[int], float]],
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Feed (counters, arrival s after START) chunks to a live stream; (times, arrivals)."""
    stream = BeastStream(DecodeOptions(start_time=pd.Timestamp("2000-01-01", tz="UTC")))
    parts, arrivals = [], []
    for counters, arrival_s in chunks:
        part = stream.feed(
            b"".join(map(frame, counters)), arrival_ns=START.value + round(arrival_s * 1e9)
        )
        parts.append(part)
        arrivals += [arrival_s] * len(part.reports)
    result = concat_results(parts)
    return seconds(result.reports), np.array(arrivals), result.counts


def test_live_feed_is_anchored_to_the_wall_clock() -> None:
    # frames every 0.1 s, read 20 ms after they were sent; the first one is 1.5 s late
    chunks = [([BASE - ticks(1.5)], 0.02)]
    chunks += [([BASE + ticks(k / 10)], k / 10 + 0.02) for k in range(1, 600)]
    got, arrival, counts = _live(chunks)
    # the first frame set the anchor 1.5 s late; the next one (on time) moved it back
    assert np.allclose(got[1:], np.arange(1, 600) / 10, atol=0.021)
    assert np.all(got[1:] <= arrival[1:] + 1e-6)  # never timed after it was read
    assert counts.get("warning:clock-outlier", 0) == 0


def test_live_receiver_restart_is_timed_at_arrival() -> None:
    chunks = [([BASE + ticks(k)], k + 0.01) for k in range(10)]
    # 16 s outage, the receiver restarts with its counter near zero
    chunks += [([ticks(0.2 + k)], 26.0 + k + 0.01) for k in range(10)]
    got, arrival, counts = _live(chunks)
    assert counts["warning:clock-jump"] == 1
    assert np.allclose(got[:10], np.arange(10), atol=0.011)
    assert np.allclose(got[10:], arrival[10:], atol=0.011)  # +14 s per restart before the fix
