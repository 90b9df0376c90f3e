"""A message entry by its id: an index on the payload's ``message_id`` (additive).

Posting messages (``store.hotline.append_messages``: the engine's conflict notices every tick,
each client's ``POST /v1/messages``) and finding one (``find_message``) look entries up by the
``message_id`` of their payload. Without an index each lookup read and parsed every entry of the
log, inside the write that holds the log's head: 24 ms at 15,000 entries, and growing with the
log. The index is on the expression the lookups use (``hotline.message_id_of``), written with
each backend's own JSON operator.

Revision ID: 0006_events_message_id
Revises: 0005_events_kind_seq
"""

from __future__ import annotations

from alembic import op

revision = "0006_events_message_id"
down_revision = "0005_events_kind_seq"
branch_labels = None
depends_on = None

#: The expression each backend indexes (the same text as ``hotline.message_id_of`` renders).
EXPRESSIONS = {
    "postgresql": "(payload ->> 'message_id')",
    "sqlite": "json_extract(payload, '$.message_id')",
}


def upgrade() -> None:
    expression = EXPRESSIONS[op.get_bind().dialect.name]
    op.execute(f"CREATE INDEX ix_events_message_id ON events (({expression}))")


def downgrade() -> None:
    op.execute("DROP INDEX ix_events_message_id")
