"""ASTM F3548-21 DSS: the wire fields of operations written through /dss, subscriptions,
constraint references and USS availability (additive).

Revision ID: 0004_f3548_dss
Revises: 0003_blind_check
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_f3548_dss"
down_revision = "0003_blind_check"
branch_labels = None
depends_on = None

_WINDOW_COLUMNS = ["time_end_s", "time_start_s", "min_lat", "max_lat", "min_lon", "max_lon"]


def _box() -> list[sa.Column[float]]:
    return [
        sa.Column("time_start_s", sa.Float, nullable=False),
        sa.Column("time_end_s", sa.Float, nullable=False),
        sa.Column("min_lon", sa.Float, nullable=False),
        sa.Column("min_lat", sa.Float, nullable=False),
        sa.Column("max_lon", sa.Float, nullable=False),
        sa.Column("max_lat", sa.Float, nullable=False),
        sa.Column("created_s", sa.Float, nullable=False),
        sa.Column("updated_s", sa.Float, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "dss_operational_intents",
        sa.Column(
            "operation_id",
            sa.String(32),
            sa.ForeignKey("operations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("uss_base_url", sa.Text, nullable=False),
        sa.Column("subscription_id", sa.String(36), nullable=True),
        sa.Column("extents", sa.JSON, nullable=False),
    )
    op.create_index("ix_dss_oi_subscription", "dss_operational_intents", ["subscription_id"])
    op.create_table(
        "dss_subscriptions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("owner_id", sa.String(32), sa.ForeignKey("parties.id"), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("notification_index", sa.Integer, nullable=False),
        sa.Column("volumes", sa.JSON, nullable=False),
        sa.Column("uss_base_url", sa.Text, nullable=False),
        sa.Column("notify_for_operations", sa.Boolean, nullable=False),
        sa.Column("notify_for_constraints", sa.Boolean, nullable=False),
        sa.Column("implicit", sa.Boolean, nullable=False),
        *_box(),
    )
    op.create_index("ix_dss_subscriptions_time", "dss_subscriptions", _WINDOW_COLUMNS)
    op.create_index("ix_dss_subscriptions_owner", "dss_subscriptions", ["owner_id"])
    op.create_table(
        "dss_constraint_references",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("owner_id", sa.String(32), sa.ForeignKey("parties.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("ovn", sa.String(64), nullable=False),
        sa.Column("uss_base_url", sa.Text, nullable=False),
        sa.Column("volumes", sa.JSON, nullable=False),
        *_box(),
    )
    op.create_index("ix_dss_constraint_refs_time", "dss_constraint_references", _WINDOW_COLUMNS)
    op.create_table(
        "dss_uss_availability",
        sa.Column("uss", sa.String(200), primary_key=True),
        sa.Column("availability", sa.String(16), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("updated_s", sa.Float, nullable=False),
    )


def downgrade() -> None:
    for name in (
        "dss_uss_availability",
        "dss_constraint_references",
        "dss_subscriptions",
        "dss_operational_intents",
    ):
        op.drop_table(name)
