"""The engine's parts: the recommended turn, area warnings, replayed recordings, its desk at the
store."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.engine.areas import RestrictedArea, area_entries, compile_areas
from deconflict.engine.desk import Desk, register_parties
from deconflict.engine.resolution import turn_away
from deconflict.engine.session import Session
from deconflict.engine.sources import ReplaySource, read_recording
from deconflict.geo import destination_deg
from deconflict.hotline.messages import MessageKind
from deconflict.store import open_store
from deconflict.surveillance.report import REPORT_DTYPES

KT = 1852 / 3600


def _miss_m(a: dict[str, float], b: dict[str, float]) -> float:
    """Closest approach (m) of two straight flights, on a flat local plane (independent)."""
    k = 111_320.0
    rx = (b["longitude"] - a["longitude"]) * k * math.cos(math.radians(a["latitude"]))
    ry = (b["latitude"] - a["latitude"]) * k
    va = np.array([math.sin(math.radians(a["track"])), math.cos(math.radians(a["track"]))])
    vb = np.array([math.sin(math.radians(b["track"])), math.cos(math.radians(b["track"]))])
    v = vb * b["groundspeed"] * KT - va * a["groundspeed"] * KT
    r = np.array([rx, ry])
    t = max(0.0, -float(r @ v) / float(v @ v)) if float(v @ v) > 0 else 0.0
    return float(np.linalg.norm(r + v * t))


@settings(max_examples=100, deadline=None)
@given(
    bearing=st.floats(0, 360),
    dist_nm=st.floats(10, 40),
    trk_a=st.floats(0, 360),
    offset=st.floats(-4, 4),
    speed=st.floats(250, 500),
)
def test_turn_away_never_brings_them_closer(
    bearing: float, dist_nm: float, trk_a: float, offset: float, speed: float
) -> None:
    # b starts dist_nm away and flies towards a point offset NM abeam of a's start
    a = {"latitude": 36.0, "longitude": 37.0, "track": trk_a, "groundspeed": speed}
    lat_b, lon_b = destination_deg(36.0, 37.0, bearing, dist_nm * 1852)
    lat_t, lon_t = destination_deg(36.0, 37.0, trk_a + 90, offset * 1852)
    trk_b = math.degrees(math.atan2(
        (float(lon_t) - float(lon_b)) * math.cos(math.radians(36.0)), float(lat_t) - float(lat_b)
    )) % 360  # fmt: skip
    b = {"latitude": float(lat_b), "longitude": float(lon_b), "track": trk_b,
         "groundspeed": speed}  # fmt: skip
    before = _miss_m(a, b)
    adv_a, adv_b = turn_away("A", a, b), turn_away("B", b, a)
    after = _miss_m({**a, "track": adv_a.heading_deg}, {**b, "track": adv_b.heading_deg})
    assert after >= before - 50.0  # both turning as advised never closes the miss distance
    assert adv_a.manoeuvre in ("turn left", "turn right")
    assert abs(((adv_a.heading_deg - trk_a + 180) % 360) - 180) == pytest.approx(30.0)


def test_head_on_both_turn_right() -> None:
    a = {"latitude": 36.0, "longitude": 37.0, "track": 90.0, "groundspeed": 400.0}
    b = {"latitude": 36.0, "longitude": 37.5, "track": 270.0, "groundspeed": 400.0}
    assert turn_away("A", a, b).manoeuvre == "turn right"
    assert turn_away("B", b, a).manoeuvre == "turn right"
    assert turn_away("A", a, b).text == "turn right heading 120"


NOW_S = 1.7e9  # the engine's clock, seconds since the epoch


def test_area_entry_time_and_floor() -> None:
    area = RestrictedArea("R", "R", ((36.0, 38.0), (36.5, 38.0), (36.5, 38.5), (36.0, 38.5)),
                          0.0, 25000.0)  # fmt: skip
    # 10 NM west of the area's west edge, flying east at 480 kt: the edge in 75 s
    lat0, lon0 = destination_deg(36.25, 38.0, 270.0, 10 * 1852)
    lat = np.array([float(lat0), float(lat0), 36.25])
    lon = np.array([float(lon0), float(lon0), 38.25])
    alt = np.array([20000.0, 30000.0, 10000.0])  # the second flies over the ceiling
    entries = area_entries(compile_areas([area]), lat, lon, alt, np.full(3, 480.0),
                           np.full(3, 90.0), np.zeros(3), NOW_S, horizon_s=120)  # fmt: skip
    got = {i: t for i, _, t in entries}
    assert set(got) == {0, 2}
    assert got[2] == 0.0  # inside now
    # the first one-second sample inside: the edge is 75 s away (a meridian is a straight line
    # in the area's tangent plane to a few metres here)
    assert 75.0 <= got[0] <= 76.0


def test_area_entry_across_the_antimeridian() -> None:
    """An area from 179.5 E to 179.5 W: aircraft either side flying into it are warned at the
    time the geodesic distance gives, and one far away (which a longitude/latitude polygon from
    -179.5 to 179.5 would hold) is not."""
    area = RestrictedArea("AM", "AM", ((-0.5, 179.5), (-0.5, -179.5), (0.5, -179.5), (0.5, 179.5)),
                          0.0, 20000.0)  # fmt: skip
    lat = np.array([0.0, 0.0, 0.0, 0.0])
    lon = np.array([179.3, -179.3, -179.9, 0.0])
    entries = area_entries(compile_areas([area]), lat, lon, np.full(4, 10000.0),
                           np.full(4, 450.0), np.array([90.0, 270.0, 90.0, 90.0]), np.zeros(4),
                           NOW_S, horizon_s=120)  # fmt: skip
    got = {i: t for i, _, t in entries}
    assert set(got) == {0, 1, 2}
    assert got[2] == 0.0  # inside now, east of the antimeridian
    # 0.2 degrees of longitude on the equator (WGS84: 22.264 km) at 450 kt
    to_edge_s = 0.2 * math.pi / 180 * 6_378_137.0 / (450 * KT)
    for i in (0, 1):
        assert to_edge_s <= got[i] <= to_edge_s + 1.0


def test_replay_source_hands_each_report_once(real_data: Path) -> None:
    frame = read_recording(real_data / "traffic" / "quickstart.parquet")
    frame = frame[frame["timestamp"] < frame["timestamp"].min() + pd.Timedelta(minutes=5)]
    start = pd.Timestamp("2030-01-01T00:00:00Z")
    src = ReplaySource(frame, party="ansp", start=start)
    got = [src.poll(start + pd.Timedelta(seconds=s)) for s in [*range(0, 300, 7), 300]]
    reports = pd.concat(got, ignore_index=True)
    assert len(reports) == len(frame.dropna(subset=["timestamp", "latitude", "longitude"]))
    assert reports["timestamp"].is_monotonic_increasing
    assert reports["timestamp"].iloc[0] == start
    for col, dtype in REPORT_DTYPES.items():
        assert str(reports[col].dtype) == dtype, col
    assert set(reports["icao24"].dropna()) <= set(frame["icao24"])
    assert len(src.poll(start + pd.Timedelta(seconds=301))) == 0


@pytest.mark.slow
def test_replayed_recording_through_the_engine(real_data: Path) -> None:
    session = Session.from_recording(real_data / "traffic" / "quickstart.parquet")
    summary = session.run_fast(90)
    assert summary["ticks"] == 90
    pic = session.engine.picture("replay")
    # the recording's aircraft become tracks, with their own addresses
    first = read_recording(real_data / "traffic" / "quickstart.parquet")
    window = first[first["timestamp"] < first["timestamp"].min() + pd.Timedelta(seconds=90)]
    assert len(pic) >= 0.5 * window["icao24"].nunique()
    assert set(pic["icao24"].dropna()) <= set(first["icao24"])


def test_desk_addresses_each_party_and_follows_the_log(tmp_path: Path) -> None:
    from deconflict.hotline.keys import Signer, generate_private_key

    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    try:
        keys = {p: Signer(p, generate_private_key()) for p in ("blue", "red")}
        parties, tokens = register_parties(store, keys)
        assert set(tokens) == {"blue", "red"}
        # registering again (a resumed demo) takes the same records; another key is refused
        again, new_tokens = register_parties(store, keys)
        assert again == parties and new_tokens == {}
        with pytest.raises(Exception, match="another key"):
            register_parties(store, {"blue": Signer("blue", generate_private_key())})
        desk = Desk(store, parties, keys)
        desk.append("alert.raised", {"alert_id": "a1", "time_s": 10.0}, ("blue",))
        desk.flush()
        blue, red = parties["blue"], parties["red"]
        assert [e.kind for e in store.events_for(blue.id)] == ["alert.raised"]
        assert store.events_for(red.id) == []
        # a crew's message goes through the hotline workflow, signed with its key; the desk
        # then reads it back from the log with everything else written meanwhile
        desk.post("blue", "red", MessageKind.FREE_TEXT, {"text": "hi"}, now_s=20.0)
        news = desk.news()
        assert [e.kind for e in news] == ["alert.raised", "message"]
        assert news[1].payload["client_signature"] and news[1].payload["sender"] == "blue"
        assert desk.news() == []
        inbox = desk.inbox("red", -1)
        assert [m["body"]["text"] for m in inbox] == ["hi"]
    finally:
        store.close()


def test_a_restarted_engine_follows_the_requests_the_last_one_opened(tmp_path: Path) -> None:
    """No request is lost across an engine restart: the new engine takes the open ones back
    from the log and follows them to their outcome (settled at the deadline if nobody answers),
    but a track key of the dead engine's tracker declares nothing in the new one's."""
    from deconflict.engine.desk import HOST
    from deconflict.engine.engine import Engine
    from deconflict.hotline.keys import Signer, generate_private_key
    from deconflict.identify.request import TrackSnapshot
    from deconflict.store import hotline as log
    from deconflict.workflows.identification import open_identifications

    store = open_store(f"sqlite:///{tmp_path / 'r.db'}")
    try:
        keys = {p: Signer(p, generate_private_key()) for p in ("blue", "red")}
        parties, _ = register_parties(store, keys)
        snap = TrackSnapshot.from_ground_track(36.0, 37.0, 3000.0, 100.0, 90.0, 0.0, ())
        t0 = 1_700_000_000.0
        answered, silent = open_identifications(
            store, HOST, [("red/T7", snap), ("red/T9", snap)], now_s=t0, timeout_s=120.0,
            observer="red",
        )  # fmt: skip
        # the engine that opened them died; a new one starts on the store
        engine = Engine(["blue", "red"], [], desk=Desk(store, parties, keys))
        ident = engine.identification
        assert (
            set(ident.inherited) == set(ident.deadline) == {answered.request_id, silent.request_id}
        )
        assert ident.pending("red") == set()  # another tracker's keys
        engine.tick(pd.Timestamp(t0 + 5, unit="s", tz="UTC"))
        assert engine.answer_identification("blue", answered.request_id, "ours", "R1") == (
            "declared"
        )
        engine.tick(pd.Timestamp(t0 + 6, unit="s", tz="UTC"))
        assert ident.declared_for("red") == {}
        # settled: its deadline is no longer watched; a track near Blue's R1 would be R1
        assert set(ident.deadline) == {silent.request_id}
        assert ident.inherited[answered.request_id].claim == ("blue", "R1")
        # nobody answers the other: the engine's deadline check settles it
        engine.tick(pd.Timestamp(t0 + 121, unit="s", tz="UTC"))
        outcomes = {
            e.payload["request_id"]: e.payload["outcome"]
            for e in log.entries(store, log.ID_RESOLVED)
        }
        assert outcomes == {answered.request_id: "declared", silent.request_id: "unknown"}
        assert set(ident.deadline) == set() and set(ident.inherited) == {answered.request_id}
        # the engine after it has nothing open to follow
        after = Engine(["blue", "red"], [], desk=Desk(store, parties, keys))
        assert after.identification.inherited == {} and after.recovered.requests_settled == 2
    finally:
        store.close()


def test_an_incident_cites_the_notices_about_its_own_aircraft_only() -> None:
    """In a busy sky the parties' log holds notices about many pairs and identification
    requests about many tracks: an incident record cites the notices about the pair's own
    aircraft, the requests (with their answers) a party answered with one of the pair's
    aircraft, and the other messages the parties exchanged."""
    from deconflict.engine.incidents import MessageIndex
    from deconflict.store import Event

    def message(
        seq: int, kind: str, to: str | list[str], body: dict[str, object], sender: str = "host"
    ) -> Event:
        recipients = [to] if isinstance(to, str) else to
        payload = {"kind": kind, "sender": sender, "recipients": recipients,
                   "time_s": float(seq), "body": body}  # fmt: skip
        return Event(seq, float(seq), sender, "k", "message", payload, "", "", "")

    notice = MessageKind.CONFLICT_NOTICE.value
    entries = [
        message(1, notice, "blue", {"own_aircraft": "VIPER11", "resolution": "turn left"}),
        message(2, notice, "blue", {"own_aircraft": "VIPER12", "resolution": "climb"}),
        message(3, notice, "red", {"own_aircraft": "FALCON21", "resolution": "turn right"}),
        message(4, notice, "red", {"own_aircraft": "FALCON23", "resolution": "descend"}),
        message(5, MessageKind.FREE_TEXT.value, "red", {"text": "VIPER11 is ours"}),
        message(6, MessageKind.FREE_TEXT.value, "civil", {"text": "not theirs"}),
    ]
    request, answer = MessageKind.IDENTIFICATION_REQUEST.value, MessageKind.IDENTIFICATION_ANSWER
    for seq, rid in ((7, "r1"), (8, "r2"), (9, "r3")):  # the host asks every party
        entries.append(message(seq, request, ["blue", "red", "civil"], {"request_id": rid}))
    for seq, rid, party, aircraft in ((10, "r1", "red", "FALCON21"), (11, "r2", "red", "FALCON99"),
                                      (12, "r1", "civil", "")):  # fmt: skip
        body = {"request_id": rid, "answer": "ours" if aircraft else "not ours",
                "aircraft": aircraft}  # fmt: skip
        entries.append(message(seq, answer.value, "host", body, sender=party))
    # an entry a message's shape does not hold (no time) is left out, not a failure
    entries.append(Event(13, 13.0, "host", "k", "message", {"kind": "free_text"}, "", "", ""))
    who = frozenset({("blue", "VIPER11"), ("red", "FALCON21")})
    index = MessageIndex()
    index.add(entries)
    cited = index.cited(who)
    assert [m["time_s"] for m in cited] == [1.0, 3.0, 5.0, 7.0, 10.0, 12.0]
    assert [m["text"] for m in cited[-2:]] == ["ours", "not ours"]
    # forgetting what was sent before 8 s keeps the answers of r1 (its request is gone)
    index.prune(8.0)
    assert [m["time_s"] for m in index.cited(who)] == [10.0, 12.0]
    index.prune(11.0)
    assert [m["time_s"] for m in index.cited(who)] == [12.0]
    assert sorted(t for t, *_ in index.rows.values()) == [11.0, 12.0]


def test_the_incidents_context_forgets_what_no_record_can_cite(tmp_path: Path) -> None:
    """A day of alerts and messages does not stay in the incidents' context: what is older
    than the track log's memory and the records' window is forgotten, and what a record can
    still cite is kept."""
    from deconflict.engine.incidents import PRUNE_EVERY_S, IncidentWatch
    from deconflict.hotline.keys import Signer, generate_private_key
    from deconflict.incidents.record import CONTEXT_WINDOW_S
    from deconflict.predict.standards import get_standard

    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    try:
        keys = {p: Signer(p, generate_private_key()) for p in ("blue", "red")}
        parties, _ = register_parties(store, keys)
        desk = Desk(store, parties, keys)
        memory_s = 120.0
        watch = IncidentWatch(desk, get_standard("icao-5nm"), memory_s=memory_s, quiet_s=10.0)
        empty = pd.DataFrame({c: pd.Series(dtype=t) for c, t in
                              {"key": object, "party": object, "identity": object,
                               "latitude": float, "longitude": float,
                               "altitude": float}.items()})  # fmt: skip
        sizes = []
        for now in np.arange(0.0, 3600.0, 10.0):
            alert = {"kind": "conflict", "alert_id": f"a{now}", "own_key": "blue/VIPER11",
                     "time_s": float(now)}  # fmt: skip
            desk.append("alert.raised", alert, ("blue",))
            desk.post("blue", "red", MessageKind.FREE_TEXT, {"text": f"t{now}"}, now_s=now)
            desk.flush()
            after = desk.cursor
            watch.learn(after, desk.news())
            watch.update(empty, [], float(now))
            sizes.append(len(watch._read.messages.rows))
            if now == 1800.0:  # what a record of an approach at the log's start may cite
                horizon = now - memory_s - CONTEXT_WINDOW_S
                messages = watch._read.messages.cited(frozenset({("blue", "VIPER11")}))
                alerts = watch._read.alerts(["blue/VIPER11"])
                assert min(m["time_s"] for m in messages) >= horizon - PRUNE_EVERY_S
                assert min(m["time_s"] for m in messages) <= horizon
                assert [a["time_s"] for a in alerts] == [m["time_s"] for m in messages]
                assert max(m["time_s"] for m in messages) == now
        # bounded: the window and the memory, plus one pruning period, at one message per 10 s
        assert max(sizes) <= (memory_s + CONTEXT_WINDOW_S + PRUNE_EVERY_S) / 10 + 1
        assert sizes[-1] >= (memory_s + CONTEXT_WINDOW_S) / 10
    finally:
        store.close()
