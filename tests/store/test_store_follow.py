"""Reading the log on (``store.follow``): each entry read once, from where the last
read stopped, by any instance of the store; ``followed_by_key`` answers by key without a query
over a payload field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deconflict.store import Event, EventDraft, follow, open_store
from deconflict.store import hotline as log


def _resolution(e: Event) -> tuple[Any, ...]:
    return str(e.payload["request_id"]), str(e.payload["outcome"])


def test_another_instances_entries_are_followed_newest_first(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'follow.db'}"
    writer, reader = open_store(url), open_store(url)
    try:

        def resolve(request_id: str, outcome: str) -> None:
            payload = {"request_id": request_id, "outcome": outcome}
            writer.append_events([EventDraft("host", log.ID_RESOLVED, payload)])

        def newest(request_id: str) -> Any:
            rows = follow.followed_by_key(
                reader, (), _resolution, request_id, entry_kind=log.ID_RESOLVED
            )
            return rows[-1][2] if rows else None

        resolve("r1", "unanswered")
        writer.append_events([EventDraft("host", "note", {"request_id": "r1"})])  # other kind
        assert newest("r1") == "unanswered" and newest("r2") is None
        resolve("r2", "declared")
        resolve("r1", "declared")  # a late answer changes the outcome
        assert newest("r1") == "declared" and newest("r2") == "declared"
        rows = follow.followed(reader, (), _resolution, entry_kind=log.ID_RESOLVED)
        assert [r[1:] for r in rows] == [
            ("r1", "unanswered"),
            ("r2", "declared"),
            ("r1", "declared"),
        ]
        assert [r[0] for r in rows] == sorted(r[0] for r in rows)  # each entry once, in order
        by_r1 = follow.followed_by_key(reader, (), _resolution, "r1", entry_kind=log.ID_RESOLVED)
        assert [r[2] for r in by_r1] == ["unanswered", "declared"]
    finally:
        writer.close()
        reader.close()
