"""Canonical JSON's fast path gives the bytes of the reference (the ``rfc8785`` package) on
random values, on the edges of its float and integer rules, and on every entry of a real run's
log; and it refuses what the reference refuses."""

from __future__ import annotations

import math
from enum import IntEnum, StrEnum
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.errors import InputError
from deconflict.hotline.canonical import canonical_json, reference_canonical_json
from deconflict.hotline.keys import Signer, generate_private_key
from deconflict.hotline.log import append_entry, entry_bytes, entry_hash
from deconflict.hotline.merkle import leaf_hash, root_of
from deconflict.store.tree import root


def _same(value: Any) -> None:
    """Both encoders give the same bytes, or both refuse the value with InputError."""
    try:
        want = reference_canonical_json(value)
    except InputError:
        with pytest.raises(InputError):
            canonical_json(value)
        return
    assert canonical_json(value) == want


_text = st.text(st.characters(codec=None, categories=None), max_size=8) | st.sampled_from(
    ["", "a", "A", "é", "\ue000", "\U0001f600", "\ud800", "\x00\x1f\x7f", '"\\', "\u2028"]
)
_floats = (
    st.floats(allow_nan=True, allow_infinity=True)
    | st.floats(min_value=-1e17, max_value=1e17)
    | st.integers(-(2**54), 2**54).map(float)
    | st.sampled_from([0.0, -0.0, 1e-4, 9.999999999999999e-5, 1e16, 9999999999999998.0, 1e21])
)
_ints = st.integers(-(2**53) - 3, 2**53 + 3) | st.integers(-(10**30), 10**30)
_scalars = st.none() | st.booleans() | _ints | _floats | _text
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(_text, inner, max_size=5)
        | st.dictionaries(st.integers(0, 3), inner, min_size=1, max_size=2)
    ),
    max_leaves=25,
)


@settings(max_examples=3000, deadline=None)
@given(_values)
def test_random_values_give_the_reference_bytes(value: Any) -> None:
    _same(value)


class _Level(IntEnum):
    HIGH = 3


class _Name(StrEnum):
    A = "a\n"


@pytest.mark.parametrize(
    "value",
    [
        -0.0, 5.0, -5.0, 0.1, 1e-4, 9.999999999999999e-5, 1.5e-7, 1e15, 1e16, 1e21, 1e22,
        5e-324, 1.7976931348623157e308, 2**53 - 1, 2**53, -(2**53) + 1, -(2**53), 10**25,
        math.nan, math.inf, -math.inf, 1_700_000_000.25, 36000.0, True, False, None,
        _Level.HIGH, _Name.A, {"k": _Level.HIGH}, [_Name.A], {"\ue000": 1, "\U0001f600": 2},
        {"b": 1, "a": {"d": [1.0, 2.5], "c": None}}, {1: "x"}, {"a": {1: "x"}},
        "\x00\x08\x09\x0a\x0c\x0d\x1f\x7f\u2028\"\\é😀", "\ud800", {"\udc00": 1}, (1, 2.0),
        {"a": (1.0,)}, {"a": {1, 2}}, {"a": b"x"}, [object()],
    ],
)  # fmt: skip
def test_edges_give_the_reference_bytes_or_the_same_refusal(value: Any) -> None:
    _same(value)


def test_every_entry_of_a_real_run_is_encoded_as_the_reference_encodes_it() -> None:
    """A busy minute of the synthetic sky (alerts, conflict notices, identification requests
    with their track histories): each entry's bytes and body hash, and each payload."""
    from deconflict.engine.engine import Engine
    from deconflict.sim.simulator import Simulator
    from deconflict.sim.source import SimSource
    from deconflict.sim.synthetic import synthetic_scenario

    sc = synthetic_scenario(400, seed=3, half_width_deg=2.0)
    source = SimSource(Simulator(sc))
    engine = Engine([p.id for p in sc.parties], [source], fleets=source.fleets())
    for t in range(1, 41):
        engine.tick(sc.time(t))
    entries = engine.desk.store.log(after=-1, limit=100_000)
    kinds = {e.kind for e in entries}
    assert {"alert.raised", "message"} <= kinds and len(entries) > 100
    for e in entries:
        record = e.to_dict()
        assert canonical_json(record) == reference_canonical_json(record)
        assert canonical_json(e.payload) == reference_canonical_json(e.payload)
        assert entry_bytes(record) == reference_canonical_json({**record, "format": 2})
        assert entry_hash(record) == e.hash
    # the leaves the store wrote as it sealed each entry (their bytes made from the body's)
    leaves = [leaf_hash(reference_canonical_json({**e.to_dict(), "format": 2})) for e in entries]
    assert root(engine.desk.store, len(entries)) == root_of(leaves)[1]


def test_an_entry_s_bytes_made_from_its_body_s_are_its_canonical_json() -> None:
    """``entry_bytes`` right after ``entry_hash`` of the same entry; and after the payload was
    replaced (a different object) it encodes the record afresh."""
    signer = Signer("host", generate_private_key())
    first = append_entry(None, signer, time_s=1.0, kind="k", payload={"a": [1.5, "é"]})
    entry = append_entry(first, signer, time_s=2.0, kind="k", payload={"b": {"c": 2.0}})
    record = {**entry.to_dict(), "payload": entry.payload}
    entry_hash(entry.body())
    assert entry_bytes(record) == reference_canonical_json(entry.to_dict())  # body() copies
    entry_hash({**entry.body(), "payload": entry.payload})
    assert entry_bytes(record) == reference_canonical_json(entry.to_dict())  # made from body
    entry_hash({**entry.body(), "payload": entry.payload})
    other = {**record, "payload": {"b": {"c": 3.0}}}
    assert entry_bytes(other) == reference_canonical_json(other)
