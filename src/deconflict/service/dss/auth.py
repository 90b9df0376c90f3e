"""Authentication of the F3548 DSS API as InterUSS deploys it: OAuth bearer JWTs (RS256).

A token is checked for its signature (the RSA public key of setting
``f3548_token_public_key``), its ``aud`` (setting ``f3548_token_audience``, by default the host
name the request was made to), ``exp`` and ``nbf``, and its ``scope`` against the operation's
scopes. Missing, unverifiable or scope-less tokens are 401; a scope the operation does not allow
is 403. The token's ``sub`` is the USS: a party of the store registered under that name
(``deconflict party add NAME``); a USS the host has not registered is 403.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from fastapi import Request
from uas_standards.astm.f3548.v21.constants import Scope

from deconflict.errors import AuthenticationError, PermissionDeniedError
from deconflict.settings import Settings
from deconflict.store import Party, Store

SC = Scope.StrategicCoordination.value
CM = Scope.ConstraintManagement.value
CP = Scope.ConstraintProcessing.value
CMSA = Scope.ConformanceMonitoringForSituationalAwareness.value
AA = Scope.AvailabilityArbitration.value
ALL = frozenset({SC, CM, CP, CMSA, AA})


@dataclass(frozen=True)
class Caller:
    """An authenticated USS: its party, its name (``sub``) and the scopes of its token."""

    party: Party
    uss: str
    scopes: frozenset[str]


class TokenVerifier:
    """Verifies F3548 bearer tokens; maps their ``sub`` to a party of the store."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.audience = settings.f3548_token_audience
        self.store = store
        self._key: Any = None
        self._key_error = ""
        path = settings.f3548_token_public_key
        if not path:
            self._key_error = (
                "this DSS has no token key: the host must set f3548_token_public_key "
                "(DECONFLICT_F3548_TOKEN_PUBLIC_KEY) to the PEM of the token issuer's key"
            )
        else:
            try:
                from cryptography.hazmat.primitives.serialization import load_pem_public_key

                self._key = load_pem_public_key(Path(path).read_bytes())
            except (OSError, ValueError) as exc:
                self._key_error = (
                    f"this DSS cannot read its token key {path!r} ({exc}): the host must fix "
                    "f3548_token_public_key"
                )
        self._parties: dict[str, Party] = {}
        self._lock = threading.Lock()

    def party(self, name: str) -> Party:
        party = self._parties.get(name)
        if party is None:
            with self._lock:
                self._parties = {p.name: p for p in self.store.list_parties()}
            party = self._parties.get(name)
        if party is None or party.role != "party":
            raise PermissionDeniedError(
                f"USS {name!r} is not a party of this service: the host registers it with "
                f"`deconflict party add {name}`"
            )
        return party

    def verify(self, request: Request, allowed: frozenset[str]) -> Caller:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError(
                "missing bearer token: send 'Authorization: Bearer JWT' with a token of the "
                "UTM auth server"
            )
        if self._key is None:
            raise AuthenticationError(self._key_error)
        audience = self.audience or (request.url.hostname or "")
        try:
            claims = jwt.decode(
                token.strip(),
                self._key,
                algorithms=["RS256"],
                audience=audience,
                options={"require": ["exp", "sub", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationError("the bearer token has expired: get a new one") from None
        except jwt.ImmatureSignatureError:
            raise AuthenticationError("the bearer token is not valid yet (nbf)") from None
        except jwt.InvalidAudienceError:
            raise AuthenticationError(
                f"the bearer token is for another audience: ask for one with aud={audience!r}"
            ) from None
        except jwt.InvalidSignatureError:
            raise AuthenticationError(
                "the bearer token's signature does not verify with this DSS's key"
            ) from None
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"the bearer token is not valid: {exc}") from None
        scopes = frozenset(str(claims.get("scope", "")).split())
        if not scopes:
            raise AuthenticationError("the bearer token has no scope: ask for one with a scope")
        if not scopes & allowed:
            raise PermissionDeniedError(
                f"scope {' '.join(sorted(scopes))} does not allow this operation: it needs one "
                f"of {', '.join(sorted(allowed))}"
            )
        uss = str(claims["sub"])
        return Caller(self.party(uss), uss, scopes)
