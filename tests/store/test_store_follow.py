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


def _kind(e: Event) -> tuple[Any, ...]:
    return (str(e.payload["kind"]),)


def test_offered_entries_are_taken_without_reading_the_log_again(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """A reader of the whole log (the engine's desk) offers what it read: a follower whose read
    stopped within it takes its kinds' entries from it and reads the log no more for them; one
    behind the offered entries (a gap it has not read) is left to read the log itself."""
    store = open_store(f"sqlite:///{tmp_path / 'offer.db'}")
    try:

        def message(kind: str) -> EventDraft:
            return EventDraft("host", log.MESSAGE, {"kind": kind, "body": {}})

        first = store.append_events([message("conflict_notice")])[0].seq
        assert [r[1] for r in follow.followed(store, ("conflict_notice",), _kind)] == [
            "conflict_notice"
        ]
        start = store.head()[0]
        store.append_events(
            [message("conflict_notice"), message("free_text"), message("conflict_notice")]
        )
        read = store.log(after=start)
        follow.offer(store, start, read)
        reads: list[int] = []
        real = log.messages_of_kinds

        def counted(*args: Any, **kwargs: Any) -> list[Event]:
            got = real(*args, **kwargs)
            reads.append(len(got))
            return got

        monkeypatch.setattr(follow, "messages_of_kinds", counted)
        rows = follow.followed(store, ("conflict_notice",), _kind)
        assert [r[0] for r in rows] == [first, read[0].seq, read[2].seq]  # each once, in order
        assert reads == [0]  # the offered entries were not read again
        # a follower that has read nothing yet is behind the offered entries: it reads itself
        free = follow.followed(store, ("free_text",), _kind)
        assert [r[0] for r in free] == [read[1].seq] and reads == [0, 1]
        follow.offer(store, start, read)  # offered again: nothing new for anyone
        assert len(follow.followed(store, ("conflict_notice",), _kind)) == 3
    finally:
        store.close()
