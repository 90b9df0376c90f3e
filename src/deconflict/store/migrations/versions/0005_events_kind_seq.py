"""The log's entries by kind in order: an index on ``events (kind, seq)`` (additive).

Every reader that follows the log by kind (``store.hotline.followed`` and ``entries``: the
identification and escalation checks of the engine and of every instance, the alerts and
incidents the engine reads on) asks for ``kind = K AND seq > N``. Without the index that read
is a scan of the whole log whatever N is: PostgreSQL's generic plan for the prepared query
cannot know that N is near the end, so each read costs the log's size, and a day's log makes
the checks slower every minute.

Revision ID: 0005_events_kind_seq
Revises: 0004_f3548_dss
"""

from __future__ import annotations

from alembic import op

revision = "0005_events_kind_seq"
down_revision = "0004_f3548_dss"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_events_kind_seq", "events", ["kind", "seq"])


def downgrade() -> None:
    op.drop_index("ix_events_kind_seq", table_name="events")
