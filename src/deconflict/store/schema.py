"""The store's tables, as SQLAlchemy Core metadata: one schema for SQLite and PostgreSQL.

Times are UNIX seconds (UTC, float), altitudes metres above mean sea level, longitudes and
latitudes degrees WGS84. The Alembic revisions in ``deconflict.store.migrations`` create exactly
these tables (a test compares them).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

parties = sa.Table(
    "parties",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),  # "party" or "admin"
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),  # sha256 hex
    sa.Column("public_key", sa.Text, nullable=False),  # Ed25519, raw 32 bytes in base64
    sa.Column("contact", sa.Text, nullable=False),
    sa.Column("created_s", sa.Float, nullable=False),
)

operations = sa.Table(
    "operations",
    metadata,
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
    sa.Column("seq", sa.BigInteger, nullable=False),  # log seq of this version
    sa.Column("created_s", sa.Float, nullable=False),
    sa.Column("updated_s", sa.Float, nullable=False),
    sa.Index("ix_operations_owner", "owner_id", "state"),
    sa.Index("ix_operations_level_time", "cell_level", "time_end_s"),
    sa.Index("ix_operations_seq", "seq"),
)

operation_cells = sa.Table(
    "operation_cells",
    metadata,
    sa.Column("cell", sa.BigInteger, primary_key=True),
    sa.Column(
        "operation_id",
        sa.String(32),
        sa.ForeignKey("operations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("time_start_s", sa.Float, nullable=False),
    sa.Column("time_end_s", sa.Float, nullable=False),
    sa.Index("ix_operation_cells_op", "operation_id"),
)

constraints = sa.Table(
    "constraints",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("owner_id", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # "restricted" or "no-fly"
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("volume", sa.JSON, nullable=False),  # the strategic Volume4D, as JSON
    sa.Column("alt_lower_m", sa.Float, nullable=False),
    sa.Column("alt_upper_m", sa.Float, nullable=False),
    sa.Column("time_start_s", sa.Float, nullable=False),
    sa.Column("time_end_s", sa.Float, nullable=False),
    sa.Column("created_s", sa.Float, nullable=False),
    sa.Index("ix_constraints_time", "time_end_s"),
)

chain_head = sa.Table(
    "chain_head",
    metadata,
    sa.Column(
        "id", sa.Integer, primary_key=True
    ),  # always 1: one row, locked by each append; seq -1 = empty log
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(128), nullable=False),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("time_s", sa.Float, nullable=False),
    sa.Column("author", sa.String(64), nullable=False),
    sa.Column("key_id", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("prev_hash", sa.String(128), nullable=False),
    sa.Column("hash", sa.String(128), nullable=False),
    sa.Column("signature", sa.String(256), nullable=False),
    # the entry's log format (hotline.canonical.LOG_FORMAT); 1: written before format 2 existed
    sa.Column("format", sa.SmallInteger, nullable=False, server_default="1"),
    # the readers that follow the log by kind (kind = K AND seq > N): migration 0005
    sa.Index("ix_events_kind_seq", "kind", "seq"),
    # a message entry by its id (migration 0006: each backend's own JSON expression; this is
    # PostgreSQL's, which alembic compares, SQLite's expression indexes it does not reflect)
    sa.Index("ix_events_message_id", sa.text("(payload ->> 'message_id')")),
)

event_recipients = sa.Table(
    "event_recipients",
    metadata,
    sa.Column("party_id", sa.String(32), primary_key=True),
    sa.Column("event_seq", sa.BigInteger, sa.ForeignKey("events.seq"), primary_key=True),
)

# -- the transparency log (issue 14): Merkle tree, checkpoints, cosignatures, the host's key --

log_tree = sa.Table(
    "log_tree",
    metadata,
    # the perfect subtree covering leaves [idx * 2**level, (idx + 1) * 2**level) of the log, as
    # node = idx * 64 + level (RFC 9162 hashes; level 0 = the leaf hash of entry seq idx):
    # ``deconflict.store.tree``
    sa.Column("node", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.LargeBinary(32), nullable=False),
)

log_checkpoints = sa.Table(
    "log_checkpoints",
    metadata,
    sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("root", sa.String(64), nullable=False),  # hex
    sa.Column("key_id", sa.String(32), nullable=False),  # the host key that signed it
    sa.Column("note", sa.Text, nullable=False),  # the signed note (C2SP tlog-checkpoint)
    sa.Column("time_s", sa.Float, nullable=False),
)

log_cosignatures = sa.Table(
    "log_cosignatures",
    metadata,
    sa.Column("size", sa.BigInteger, sa.ForeignKey("log_checkpoints.size"), primary_key=True),
    sa.Column("party_id", sa.String(32), primary_key=True),
    sa.Column("line", sa.Text, nullable=False),  # C2SP tlog-cosignature signature line
    sa.Column("time_s", sa.Float, nullable=False),
)

host_keys = sa.Table(
    "host_keys",
    metadata,
    # the host's Ed25519 signing keys (PKCS#8 PEM), the newest unretired one signs; kept in the
    # store so every instance on it and every restart sign as one host
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("private_pem", sa.Text, nullable=False),
    sa.Column("created_s", sa.Float, nullable=False),
    sa.Column("retired_s", sa.Float, nullable=True),
)


# -- the blind check (issue 15): no geometry, only commitments, relayed ciphertexts, outcomes --

blind_operations = sa.Table(
    "blind_operations",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("owner_id", sa.String(32), sa.ForeignKey("parties.id"), nullable=False),
    sa.Column("commitment", sa.String(64), nullable=False),  # sha256 hex of salt + volumes
    sa.Column("contact", sa.Text, nullable=False),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("token", sa.String(64), nullable=False),
    sa.Column("expires_s", sa.Float, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("created_s", sa.Float, nullable=False),
    sa.Column("updated_s", sa.Float, nullable=False),
    sa.Index("ix_blind_operations_owner", "owner_id", "state"),
)

blind_checks = sa.Table(
    "blind_checks",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("a_id", sa.String(32), nullable=False),  # the declarer
    sa.Column("b_id", sa.String(32), nullable=False),  # the answerer
    sa.Column("rounds", sa.Integer, nullable=False),  # the last round relayed
    sa.Column("outcome", sa.JSON, nullable=True),  # the outcome both signed, once recorded
    sa.Column("created_s", sa.Float, nullable=False),
)

blind_messages = sa.Table(
    "blind_messages",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),  # its log entry
    sa.Column("recipient_id", sa.String(32), nullable=False),
    sa.Column("envelope", sa.JSON, nullable=False),
    sa.Index("ix_blind_messages_recipient", "recipient_id", "seq"),
)


# -- ASTM F3548-21 DSS (``deconflict.store.dss``): what the DSS API keeps beside operations --

_WINDOW_COLUMNS = ["time_end_s", "time_start_s", "min_lat", "max_lat", "min_lon", "max_lon"]

dss_operational_intents = sa.Table(  # the F3548 wire fields of an operation written through /dss
    "dss_operational_intents",
    metadata,
    sa.Column(
        "operation_id",
        sa.String(32),
        sa.ForeignKey("operations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("uss_base_url", sa.Text, nullable=False),
    sa.Column("subscription_id", sa.String(36), nullable=True),
    sa.Column("extents", sa.JSON, nullable=False),  # as the USS gave them (W84 metres)
    sa.Index("ix_dss_oi_subscription", "subscription_id"),
)

dss_subscriptions = sa.Table(
    "dss_subscriptions",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("owner_id", sa.String(32), sa.ForeignKey("parties.id"), nullable=False),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("notification_index", sa.Integer, nullable=False),
    sa.Column("volumes", sa.JSON, nullable=False),  # strategic Volume4D list (barometric)
    sa.Column("uss_base_url", sa.Text, nullable=False),
    sa.Column("notify_for_operations", sa.Boolean, nullable=False),
    sa.Column("notify_for_constraints", sa.Boolean, nullable=False),
    sa.Column("implicit", sa.Boolean, nullable=False),
    sa.Column("time_start_s", sa.Float, nullable=False),
    sa.Column("time_end_s", sa.Float, nullable=False),
    sa.Column("min_lon", sa.Float, nullable=False),
    sa.Column("min_lat", sa.Float, nullable=False),
    sa.Column("max_lon", sa.Float, nullable=False),
    sa.Column("max_lat", sa.Float, nullable=False),
    sa.Column("created_s", sa.Float, nullable=False),
    sa.Column("updated_s", sa.Float, nullable=False),
    # covering: the box-and-time search reads the index only (no row fetched per candidate)
    sa.Index("ix_dss_subscriptions_time", *_WINDOW_COLUMNS),
    sa.Index("ix_dss_subscriptions_owner", "owner_id"),
)

dss_constraint_references = sa.Table(
    "dss_constraint_references",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("owner_id", sa.String(32), sa.ForeignKey("parties.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("ovn", sa.String(64), nullable=False),
    sa.Column("uss_base_url", sa.Text, nullable=False),
    sa.Column("volumes", sa.JSON, nullable=False),  # strategic Volume4D list (barometric)
    sa.Column("time_start_s", sa.Float, nullable=False),
    sa.Column("time_end_s", sa.Float, nullable=False),
    sa.Column("min_lon", sa.Float, nullable=False),
    sa.Column("min_lat", sa.Float, nullable=False),
    sa.Column("max_lon", sa.Float, nullable=False),
    sa.Column("max_lat", sa.Float, nullable=False),
    sa.Column("created_s", sa.Float, nullable=False),
    sa.Column("updated_s", sa.Float, nullable=False),
    sa.Index("ix_dss_constraint_refs_time", *_WINDOW_COLUMNS),
)

dss_uss_availability = sa.Table(
    "dss_uss_availability",
    metadata,
    sa.Column("uss", sa.String(200), primary_key=True),
    sa.Column("availability", sa.String(16), nullable=False),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("updated_s", sa.Float, nullable=False),
)
