"""The transparency log: Merkle tree nodes, signed checkpoints, cosignatures, the host's key,
and each entry's log format (entries written before are format 1).

The tree of a log written before this revision is built when the store opens
(``deconflict.store.tree.backfill``), from the entries themselves.

Revision ID: 0002_merkle_log
Revises: 0001_initial
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_merkle_log"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "events", sa.Column("format", sa.SmallInteger, nullable=False, server_default="1")
    )
    op.create_table(
        "log_tree",
        sa.Column("node", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "log_checkpoints",
        sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("time_s", sa.Float, nullable=False),
    )
    op.create_table(
        "log_cosignatures",
        sa.Column("size", sa.BigInteger, sa.ForeignKey("log_checkpoints.size"), primary_key=True),
        sa.Column("party_id", sa.String(32), primary_key=True),
        sa.Column("line", sa.Text, nullable=False),
        sa.Column("time_s", sa.Float, nullable=False),
    )
    op.create_table(
        "host_keys",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("private_pem", sa.Text, nullable=False),
        sa.Column("created_s", sa.Float, nullable=False),
        sa.Column("retired_s", sa.Float, nullable=True),
    )


def downgrade() -> None:
    for name in ("host_keys", "log_cosignatures", "log_checkpoints", "log_tree"):
        op.drop_table(name)
    with op.batch_alter_table("events") as batch:
        batch.drop_column("format")
