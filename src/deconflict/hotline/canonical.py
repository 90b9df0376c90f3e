"""Canonical JSON: the one byte form that log entries are hashed and signed in (no units here).

The rule, which any re-implementation must follow byte for byte:

* ``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
  allow_nan=False)`` encoded as UTF-8: object keys sorted by code point, no whitespace at all;
* numbers as Python writes them: integers in decimal, floats as the shortest text that reads back
  to the same IEEE-754 double (``repr``), so ``1.0`` stays ``1.0`` and is not the integer ``1``;
* NaN and infinities are refused (they have no JSON form); object keys must be strings;
* tuples are written as arrays, so a value read back from JSON re-serialises to the same bytes.

This is RFC 8785 (JCS) in spirit; it differs from JCS only in how some floats are spelt
(``1e+21`` vs ``1e21``, ``1.0`` vs ``1``), which is why the rule is stated here in full.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from deconflict.errors import InputError


def _check_keys(value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InputError(
                    f"object key {key!r} is {type(key).__name__}: canonical JSON keys must be str"
                )
            _check_keys(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _check_keys(item)


def canonical_json(value: Any, *, check_keys: bool = True) -> bytes:
    """The canonical UTF-8 bytes of a JSON-compatible value (see the module docstring).

    ``check_keys=False`` skips the walk that refuses non-str keys: for values just read from
    JSON, whose keys are str by construction (verification does this; it is ~20 % faster).
    """
    if check_keys:
        _check_keys(value)
    try:
        text = json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"value cannot be written as canonical JSON ({exc}); use only str keys, str, int, "
            "finite float, bool, None, lists and dicts"
        ) from exc
    return text.encode("utf-8")


def sha256_hex(data: bytes) -> str:
    """SHA-256 of ``data`` as 64 lowercase hex characters."""
    return hashlib.sha256(data).hexdigest()
