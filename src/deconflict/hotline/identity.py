"""Who may call themselves what: the host's reserved identity and party names that look alike
(no units).

A party's name is how others address it and how the exported key ring files its keys, so two
names a person cannot tell apart are one name. :func:`name_key` reduces a name to its skeleton:
Unicode NFKC, case folded, accents and invisible characters dropped, whitespace removed, and the
common confusables (Cyrillic and Greek letters that look Latin, ``0`` for ``o``, ``1`` for ``l``
...) mapped to the Latin letter they imitate. Two names with the same skeleton are the same
name; a name whose skeleton is the host's (``host``, ``Host``, ``host ``, ``hоst`` with a Cyrillic
``о``, ``h0st``) or the broadcast address ``*`` is reserved.

The host's keys are those its own ``host.key`` entries publish, never a party's registered key:
:func:`host_claims` finds a key ring that says otherwise (``deconflict audit verify`` refuses it).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, Final

from deconflict.errors import InputError
from deconflict.hotline.keys import KeyRing, key_id, public_key_from_b64

HOST: Final = "host"
#: Names no party may take (compared by skeleton): the host, and '*' (every party).
RESERVED: Final = (HOST, "*")

# Characters that look like a Latin letter or digit in common fonts (a subset of Unicode's
# confusables.txt: the Cyrillic, Greek and digit look-alikes of the Latin alphabet).
_CONFUSABLES: Final = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "һ": "h", "н": "h", "і": "i", "ї": "i", "ј": "j",
    "к": "k", "м": "m", "о": "o", "р": "p", "ԛ": "q", "г": "r", "ѕ": "s", "т": "t", "у": "y",
    "ү": "y", "х": "x", "ԝ": "w", "ԁ": "d", "с": "c", "ӏ": "l", "ɡ": "g",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ω": "w", "ϲ": "c", "ϳ": "j", "ѡ": "w",
    # Latin look-alikes and digits
    "ı": "i", "ɩ": "i", "ℓ": "l", "ſ": "s", "0": "o", "1": "l", "|": "l", "3": "e", "5": "s",
    "$": "s", "@": "a",
}  # fmt: skip


def name_key(name: str) -> str:
    """The skeleton of a party name: equal skeletons are names a person cannot tell apart."""
    text = unicodedata.normalize("NFKC", name).casefold()
    text = unicodedata.normalize("NFKD", text)
    out = []
    for ch in text:
        category = unicodedata.category(ch)
        if category in ("Mn", "Me", "Cf", "Cc") or ch.isspace() or category == "Zs":
            continue  # accents, zero-width and control characters, whitespace
        out.append(_CONFUSABLES.get(ch, ch))
    return "".join(out)


_RESERVED_KEYS: Final = {name_key(n): n for n in RESERVED}


def reserved_as(name: str) -> str | None:
    """The reserved name ``name`` reads as (``"host"`` or ``"*"``), or None."""
    return _RESERVED_KEYS.get(name_key(name))


def same_name(name: str, others: Iterable[str]) -> str | None:
    """The first of ``others`` that ``name`` cannot be told apart from, or None."""
    key = name_key(name)
    return next((o for o in others if name_key(o) == key), None)


def signing_key_id(public_key: str) -> str | None:
    """The key id of a registered public key (base64), or None when it is not a real Ed25519
    key (a party registered without one signs nothing, so such entries never clash)."""
    if not public_key:
        return None
    try:
        return key_id(public_key_from_b64(public_key))
    except (InputError, ValueError):
        return None


def host_claims(ring: KeyRing, records: Iterable[Mapping[str, Any] | None]) -> list[str]:
    """Why ``ring`` cannot be trusted for the host's entries: a name other than ``host`` that
    reads as the host, or a key filed under ``host`` that the log (``records``: entry dicts)
    registered as a party's. Empty when the ring claims nothing for the host it should not."""
    problems = []
    for name in ring.keys:
        if name != HOST and reserved_as(name) == HOST:
            problems.append(
                f"key ring entry {name!r} reads as the host's name: only 'host' holds the "
                "host's keys; remove it"
            )
    host_ids = set(ring.keys.get(HOST, {}))
    for name, keys in ring.keys.items():
        if name != HOST and host_ids & set(keys):
            problems.append(
                f"a key filed under 'host' is also the key of party {name!r}: the host's keys "
                "are only those of its host.key entries; remove it from 'host'"
            )
    for record in records:
        if not isinstance(record, Mapping) or record.get("kind") != "party.registered":
            continue
        payload = record.get("payload")
        if not isinstance(payload, Mapping) or not isinstance(payload.get("public_key"), str):
            continue
        kid = signing_key_id(payload["public_key"])
        if kid is not None and kid in host_ids:
            party = payload.get("name")
            problems.append(
                f"the key {kid} filed under 'host' is the registered key of party {party!r} "
                f"(log entry seq {record.get('seq')}): a party's key never seals the host's "
                "entries; export the key ring again with this version (`deconflict audit export`)"
            )
    return problems
