"""The blind check: blind operations (commitments only), checks, the relay's mailbox.

Revision ID: 0003_blind_check
Revises: 0002_merkle_log
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_blind_check"
down_revision = "0002_merkle_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blind_operations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("owner_id", sa.String(32), sa.ForeignKey("parties.id"), nullable=False),
        sa.Column("commitment", sa.String(64), nullable=False),
        sa.Column("contact", sa.Text, nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("expires_s", sa.Float, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("created_s", sa.Float, nullable=False),
        sa.Column("updated_s", sa.Float, nullable=False),
    )
    op.create_index("ix_blind_operations_owner", "blind_operations", ["owner_id", "state"])
    op.create_table(
        "blind_checks",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("a_id", sa.String(32), nullable=False),
        sa.Column("b_id", sa.String(32), nullable=False),
        sa.Column("rounds", sa.Integer, nullable=False),
        sa.Column("outcome", sa.JSON, nullable=True),
        sa.Column("created_s", sa.Float, nullable=False),
    )
    op.create_table(
        "blind_messages",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("recipient_id", sa.String(32), nullable=False),
        sa.Column("envelope", sa.JSON, nullable=False),
    )
    op.create_index("ix_blind_messages_recipient", "blind_messages", ["recipient_id", "seq"])


def downgrade() -> None:
    op.drop_table("blind_messages")
    op.drop_table("blind_checks")
    op.drop_index("ix_blind_operations_owner", "blind_operations")
    op.drop_table("blind_operations")
