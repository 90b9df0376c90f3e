"""The log's entries by kind in order: an index on ``events (kind, seq)`` (additive).

The readers that follow the log by kind (``store.follow.followed``, ``store.hotline.entries``:
the identification and escalation checks of the engine and of every instance, the alerts and
incidents the engine reads on, the recovery of an engine that restarts) ask for ``kind = K``
and, once they have read on, ``seq > N``. Without the index a first read (and every read of a
kind's whole history) reads every entry of the log, and a read on reads every entry after N
whatever its kind; with it, only the entries of the kind.

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
