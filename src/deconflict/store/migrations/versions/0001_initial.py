"""Initial schema: parties, operations and their grid cells, constraints, the event log.

Revision ID: 0001_initial
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "parties",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("public_key", sa.Text, nullable=False),
        sa.Column("contact", sa.Text, nullable=False),
        sa.Column("created_s", sa.Float, nullable=False),
    )
    op.create_table(
        "operations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("owner_id", sa.String(32), sa.ForeignKey("parties.id"), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("volumes", sa.JSON, nullable=False),
        sa.Column("aircraft", sa.JSON, nullable=False),
        sa.Column("flags", sa.JSON, nullable=False),
        sa.Column("time_start_s", sa.Float, nullable=False),
        sa.Column("time_end_s", sa.Float, nullable=False),
        sa.Column("alt_lower_m", sa.Float, nullable=False),
        sa.Column("alt_upper_m", sa.Float, nullable=False),
        sa.Column("min_lon", sa.Float, nullable=False),
        sa.Column("min_lat", sa.Float, nullable=False),
        sa.Column("max_lon", sa.Float, nullable=False),
        sa.Column("max_lat", sa.Float, nullable=False),
        sa.Column("cell_level", sa.Integer, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("created_s", sa.Float, nullable=False),
        sa.Column("updated_s", sa.Float, nullable=False),
    )
    op.create_index("ix_operations_owner", "operations", ["owner_id", "state"])
    op.create_index("ix_operations_level_time", "operations", ["cell_level", "time_end_s"])
    op.create_index("ix_operations_seq", "operations", ["seq"])
    op.create_table(
        "operation_cells",
        sa.Column("cell", sa.BigInteger, primary_key=True),
        sa.Column(
            "operation_id",
            sa.String(32),
            sa.ForeignKey("operations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("time_start_s", sa.Float, nullable=False),
        sa.Column("time_end_s", sa.Float, nullable=False),
    )
    op.create_index("ix_operation_cells_op", "operation_cells", ["operation_id"])
    op.create_table(
        "constraints",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("owner_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("volume", sa.JSON, nullable=False),
        sa.Column("alt_lower_m", sa.Float, nullable=False),
        sa.Column("alt_upper_m", sa.Float, nullable=False),
        sa.Column("time_start_s", sa.Float, nullable=False),
        sa.Column("time_end_s", sa.Float, nullable=False),
        sa.Column("created_s", sa.Float, nullable=False),
    )
    op.create_index("ix_constraints_time", "constraints", ["time_end_s"])
    op.create_table(
        "chain_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(128), nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("time_s", sa.Float, nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("prev_hash", sa.String(128), nullable=False),
        sa.Column("hash", sa.String(128), nullable=False),
        sa.Column("signature", sa.String(256), nullable=False),
    )
    op.create_table(
        "event_recipients",
        sa.Column("party_id", sa.String(32), primary_key=True),
        sa.Column("event_seq", sa.BigInteger, sa.ForeignKey("events.seq"), primary_key=True),
    )
    op.bulk_insert(
        sa.table("chain_head", sa.column("id"), sa.column("seq"), sa.column("hash")),
        [{"id": 1, "seq": -1, "hash": "0" * 64}],
    )


def downgrade() -> None:
    for name in (
        "event_recipients",
        "events",
        "chain_head",
        "constraints",
        "operation_cells",
        "operations",
        "parties",
    ):
        op.drop_table(name)
