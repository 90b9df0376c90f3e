"""Parties in the store: registration (names and keys checked), lookup by token or id."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deconflict.errors import ConflictError, InputError, NotFoundError
from deconflict.hotline import identity
from deconflict.store.connection import (
    _PARTY_BY_ID,
    _PARTY_BY_TOKEN,
    Database,
)
from deconflict.store.records import (
    EventDraft,
    Party,
)
from deconflict.store.rows import _party
from deconflict.store.schema import (
    parties,
)


def hash_token(token: str) -> str:
    """sha256 hex of an API token: the only form in which tokens are stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Parties(Database):
    """Parties: the store's register of who may act."""

    # -- parties --------------------------------------------------------------------------

    def add_party(
        self, name: str, *, public_key: str, role: str = "party", contact: str = ""
    ) -> tuple[Party, str]:
        """Register a party; returns it and its API token (shown once, stored only hashed)."""
        if role not in ("party", "admin"):
            raise InputError(f"role {role!r} is not known; use 'party' or 'admin'")
        if not name.strip():
            raise InputError("a party needs a non-empty name")
        token = secrets.token_urlsafe(32)
        party = Party(uuid.uuid4().hex, name, role, public_key, contact, time.time())
        try:
            with self.write_transaction() as (conn, head):
                self._check_new_party(conn, name, public_key)
                conn.execute(
                    sa.insert(parties).values(
                        id=party.id,
                        name=name,
                        role=role,
                        token_hash=hash_token(token),
                        public_key=public_key,
                        contact=contact,
                        created_s=party.created_s,
                    )
                )
                self.append_entry(
                    conn,
                    head,
                    EventDraft(
                        "host",
                        "party.registered",
                        {"party": party.id, "name": name, "role": role, "public_key": public_key},
                    ),
                )
        except sa.exc.IntegrityError as exc:
            raise ConflictError(
                f"a party named {name!r} is already registered; choose another name"
            ) from exc
        return party, token

    def _check_new_party(self, conn: Connection, name: str, public_key: str) -> None:
        """Refuse a name that reads as the host's (or '*'), or as a registered party's, and a
        signing key that is the host's or a registered party's (inside the write)."""
        reserved = identity.reserved_as(name)
        if reserved is not None:
            raise InputError(
                f"the name {name!r} reads as {reserved!r}, which is reserved for the "
                f"{'host' if reserved == identity.HOST else 'broadcast address'}: choose "
                "another name"
            )
        rows = conn.execute(sa.select(parties.c.name, parties.c.public_key)).all()
        clash = identity.same_name(name, [str(r.name) for r in rows])
        if clash is not None:
            raise ConflictError(
                f"a party named {clash!r} is already registered, and {name!r} cannot be told "
                "apart from it (names are compared ignoring case, whitespace, accents and "
                "look-alike letters): choose another name"
            )
        kid = identity.signing_key_id(public_key)
        if kid is None:
            return
        if kid == self.sealer.key_id:
            raise InputError(
                f"the public key {kid} is the host's signing key: a party registers its own key"
            )
        for r in rows:
            if identity.signing_key_id(str(r.public_key)) == kid:
                raise ConflictError(
                    f"the public key {kid} is already registered to party {r.name!r}: each "
                    "party signs with its own key; make a new key pair (deconflict audit keygen)"
                )

    def party_by_token(self, token: str) -> Party | None:
        """The party of an API token (parties never change once made, so they are cached)."""
        digest = hash_token(token)
        cached = self._token_cache.get(digest)
        if cached is not None:
            return cached
        with self.read_transaction() as conn:
            row = conn.execute(_PARTY_BY_TOKEN, {"h": digest}).first()
        if row is None:
            return None
        party = _party(row)
        self._token_cache[digest] = party
        return party

    def get_party(self, party_id: str) -> Party:
        with self.read_transaction() as conn:
            row = conn.execute(_PARTY_BY_ID, {"i": party_id}).first()
        if row is None:
            raise NotFoundError(f"no party {party_id!r}; list parties with GET /v1/parties")
        return _party(row)

    def list_parties(self) -> list[Party]:
        with self.read_transaction() as conn:
            rows = conn.execute(sa.select(parties).order_by(parties.c.created_s)).all()
        return [_party(r) for r in rows]
