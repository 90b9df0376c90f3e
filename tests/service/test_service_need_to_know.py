"""Need-to-know: another party's operation is seen only where it meets one's own, and only the
intersecting parts of its volumes plus how to reach its owner."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient
from service_helpers import Headers, assert_error, make_client, volume


@pytest.fixture()
def client(db_url: str) -> Iterator[TestClient]:
    """Procedures that let a higher priority be accepted in conflict, so volumes can overlap."""
    with make_client(db_url, conflict_rule="accept-by-priority") as c:
        yield c


def declare(client: TestClient, who: Headers, *volumes: dict[str, Any], **extra: Any) -> Any:
    r = client.post("/v1/operations", json={"volumes": list(volumes), **extra}, headers=who)
    assert r.status_code == 201, r.text
    return r.json()


def test_others_see_only_the_intersection(
    client: TestClient, register: Callable[[str], Headers]
) -> None:
    alpha, bravo, charlie = register("alpha"), register("bravo"), register("charlie")
    # alpha: a 0.04° square with a second, far volume; bravo: a 0.01° square over its corner
    far = volume(9.70, 47.70)
    op_a = declare(
        client, alpha, volume(8.50, 47.40, 0.04), far, priority=7, aircraft_ids=["SECRETAC1"]
    )
    op_b = declare(
        client,
        bravo,
        volume(8.535, 47.435, 0.01, lower_ft=300, upper_ft=1000),
        keys=[op_a["token"]],
        priority=8,
    )
    seen = client.get(f"/v1/operations/{op_a['id']}", headers=bravo)
    assert seen.status_code == 200, seen.text
    view = seen.json()
    assert view["shared"] is True
    assert set(view) == {"shared", "id", "version", "token", "owner", "contact", "parts"}
    assert view["owner"] == "alpha" and view["contact"] == "ops@alpha"
    for secret in ("SECRETAC1", "9.7", "47.7", '"priority"', "aircraft", "Accepted"):
        assert secret not in seen.text
    (part,) = view["parts"]
    # the part is alpha's square cut to bravo's: inside both, and the size of bravo's overlap
    a_box = shapely.box(8.50, 47.40, 8.54, 47.44)
    b_box = shapely.box(8.535, 47.435, 8.545, 47.445)
    shown = shapely.Polygon(part["polygon"][0])
    expected = a_box.intersection(b_box)
    assert shown.symmetric_difference(expected).area < 1e-3 * expected.area
    assert part["altitude_lower_ft"] == 300.0 and part["altitude_upper_ft"] == 400.0
    # charlie, with nothing there, sees nothing: the same 404 as for an id that does not exist
    hidden = client.get(f"/v1/operations/{op_a['id']}", headers=charlie)
    nothing = client.get("/v1/operations/00000000000000000000000000000000", headers=charlie)
    assert_error(hidden, 404, "not_found")
    assert hidden.json()["error"]["message"].replace(op_a["id"], "X") == nothing.json()["error"][
        "message"
    ].replace("00000000000000000000000000000000", "X")
    assert client.get("/v1/operations", headers=charlie).json()["operations"] == []
    # search as bravo: its own in full, alpha's as the same shared view
    listed = client.get("/v1/operations", headers=bravo).json()["operations"]
    assert {(o["id"], o["shared"]) for o in listed} == {(op_b["id"], False), (op_a["id"], True)}
    assert "SECRETAC1" not in repr(listed)


def test_nobody_changes_anothers_operation(
    client: TestClient, register: Callable[[str], Headers]
) -> None:
    alpha, bravo = register("alpha"), register("bravo")
    op_a = declare(client, alpha, volume(8.50, 47.40))
    body = {"token": op_a["token"], "volumes": [volume(8.6, 47.4)], "state": "Accepted"}
    assert_error(
        client.put(f"/v1/operations/{op_a['id']}", json=body, headers=bravo), 404, "not_found"
    )
    state = {"token": op_a["token"], "state": "Ended"}
    assert_error(
        client.post(f"/v1/operations/{op_a['id']}/state", json=state, headers=bravo),
        404,
        "not_found",
    )
    again = client.get(f"/v1/operations/{op_a['id']}", headers=alpha).json()
    assert again["version"] == 1 and again["state"] == "Accepted"


def test_events_carry_only_need_to_know(
    client: TestClient, register: Callable[[str], Headers]
) -> None:
    alpha, bravo = register("alpha"), register("bravo")
    op_a = declare(client, alpha, volume(8.50, 47.40), aircraft_ids=["SECRETAC2"], priority=3)
    client.post(
        "/v1/operations",
        json={
            "volumes": [volume(8.505, 47.405)],
            "keys": [op_a["token"]],
            "aircraft_ids": ["SECRETBC2"],
        },
        headers=bravo,
    )
    to_bravo = client.get("/v1/events", headers=bravo).text
    to_alpha = client.get("/v1/events", headers=alpha).text
    assert "SECRETAC2" not in to_bravo
    assert "SECRETBC2" not in to_alpha
    assert op_a["id"] in to_bravo  # bravo is told which operation it met


def test_the_listing_equals_every_pair_checked_on_its_own(
    client: TestClient, register: Callable[[str], Headers]
) -> None:
    """``GET /v1/operations`` (the index's one pass) shows exactly what the view of every other
    operation against every one of the party's own shows (the quadratic path it replaced)."""
    import random

    from deconflict.strategic.need_to_know import intersection_view

    heads = {name: register(name) for name in ("alpha", "bravo", "charlie")}
    rng = random.Random(5)
    tokens: list[str] = []
    for i in range(36):
        name = ("alpha", "bravo", "charlie")[i % 3]
        hour = 10 + rng.randrange(3)
        vol = volume(
            8.5 + rng.uniform(0, 0.08), 47.4 + rng.uniform(0, 0.08), rng.uniform(0.005, 0.03),
            start=f"2030-01-01T{hour}:00:00Z", end=f"2030-01-01T{hour + 1}:00:00Z",
        )  # fmt: skip
        made = declare(client, heads[name], vol, keys=tokens, priority=i)
        tokens.append(made["token"])
    app: Any = client.app
    store, rules, disclosure = app.state.store, app.state.deconflictor, app.state.disclosure
    shown_somewhere = 0
    for name, head in heads.items():
        party = next(p for p in store.list_parties() if p.name == name)
        mine = [rules.model(r) for r in store.operations_of(party.id)]
        expected = {}
        for r in store.query_operations((-180, -90, 180, 90), 0.0, 1e11):
            if r.owner_id != party.id:
                seen = intersection_view(rules.model(r), mine, disclosure.buffers)
                if seen is not None:
                    expected[r.id] = [p.model_dump(mode="json") for p in seen.parts]
        listed = client.get("/v1/operations", headers=head).json()["operations"]
        got = {o["id"]: o["parts"] for o in listed if o["shared"]}
        key = lambda p: (p["viewer_operation_id"], p["viewer_volume"], str(p["polygon"]))  # noqa: E731
        assert {k: sorted(v, key=key) for k, v in got.items()} == {
            k: sorted(v, key=key) for k, v in expected.items()
        }
        assert sum(1 for o in listed if not o["shared"]) == len(mine)
        shown_somewhere += len(got)
    assert shown_somewhere > 10  # not vacuous: the scene is crowded
