"""Canonical JSON: the one byte form log entries are hashed and signed in (no units here).

Log format 2 (every entry written since the transparency log, ``LOG_FORMAT``): RFC 8785, the JSON
Canonicalization Scheme (JCS), by the ``rfc8785`` package — object keys sorted by UTF-16 code
units, no whitespace, strings as ECMAScript writes them, numbers as ECMAScript's
``Number.prototype.toString`` (so ``1.0`` is ``1`` and ``1e21`` is ``1e+21``: any JCS library in
any language, e.g. npm's ``canonicalize`` on the map page, gives the same bytes). NaN, the
infinities and non-string keys are refused. An integer beyond ±(2^53 − 1) is written as the
double nearest it, as JavaScript holds it (JCS writes a double ≥ 2^53 below 1e21 in integer
digits, which Python reads back as an int: the same bytes come out again).

``canonical_json`` writes the common case — dicts with ASCII str keys, lists, tuples, str, int
within ±(2^53 − 1), bool, None and floats in [1e-4, 1e16) or integral — with the standard
library's C encoder after one walk that writes integral floats as ints (``5.0`` → ``5``, what
JCS writes); any other value (an exponent, a non-ASCII key, a large integer, a non-finite float,
a type JSON lacks) goes to the ``rfc8785`` package, the reference (``reference_canonical_json``).
Both give the same bytes: ``tests/hotline/test_hotline_canonical.py`` compares them on random
values and on every entry of a real run's log.

Log format 1 (entries written before; an entry without a ``format`` field): the earlier rule,
kept so old logs still verify — ``json.dumps(value, sort_keys=True, separators=(",", ":"),
ensure_ascii=False, allow_nan=False)`` in UTF-8, floats as Python's ``repr`` (``1.0`` stays
``1.0``). ``canonical_json_for(fmt)`` picks the rule of an entry's format.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, Final

import rfc8785

from deconflict.errors import InputError

#: The log format new entries are written in (their ``format`` field).
LOG_FORMAT: Final = 2
#: Every format this code reads.
LOG_FORMATS: Final = (1, 2)


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


_SAFE_INT: Final = 2**53 - 1


def _as_doubles(value: Any) -> Any:
    """``value`` with every integer beyond ±(2^53 − 1) made the double nearest it."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value) if abs(value) > _SAFE_INT else value
    if isinstance(value, dict):
        return {k: _as_doubles(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_as_doubles(v) for v in value]
    return value


def reference_canonical_json(value: Any) -> bytes:
    """The RFC 8785 (JCS) bytes of a JSON-compatible value, by the ``rfc8785`` package: the
    reference ``canonical_json`` equals (and falls back to)."""
    try:
        try:
            return rfc8785.dumps(value)
        except rfc8785.IntegerDomainError:
            return rfc8785.dumps(_as_doubles(value))
    except (rfc8785.CanonicalizationError, TypeError, ValueError, OverflowError) as exc:
        raise InputError(
            f"value cannot be written as canonical JSON (RFC 8785: {exc}); use only str keys, "
            "str, int, finite float, bool, None, lists and dicts"
        ) from exc


class _Uncommon(Exception):
    """A value the fast path leaves to the reference encoder."""


_FIXED_MIN: Final = 1e-4  # Python's repr writes |x| in [1e-4, 1e16) without an exponent
_FIXED_MAX: Final = 1e16


def _plain(value: Any) -> Any:
    """``value`` as the C encoder writes it in JCS bytes: integral floats as ints; raises
    ``_Uncommon`` for anything whose JCS bytes the C encoder does not give."""
    t = type(value)
    if t is float:
        if value.is_integer():
            if -_FIXED_MAX < value < _FIXED_MAX:
                return int(value)  # -0.0 too: JCS writes 0
            raise _Uncommon
        if _FIXED_MIN <= abs(value) < _FIXED_MAX:
            return value  # repr's digits are JCS's, without an exponent
        raise _Uncommon  # an exponent, NaN or an infinity
    if t is str or value is None or t is bool:
        return value
    if t is int:
        if -_SAFE_INT <= value <= _SAFE_INT:
            return value
        raise _Uncommon
    if t is dict:
        for key in value:
            if type(key) is not str or not key.isascii():
                raise _Uncommon  # ASCII keys sort the same by code point and by UTF-16 unit
        return {key: _plain(item) for key, item in value.items()}
    if t is list or t is tuple:
        return [_plain(item) for item in value]
    raise _Uncommon  # subclasses (enums), other mappings and sequences, other types


_ENCODER: Final = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
)


def canonical_json(value: Any, *, check_keys: bool = True) -> bytes:
    """The RFC 8785 (JCS) bytes of a JSON-compatible value (log format 2).

    ``check_keys`` is kept for the callers of format 1; JCS always refuses non-str keys."""
    del check_keys
    try:
        return _ENCODER.encode(_plain(value)).encode("utf-8")
    except (_Uncommon, UnicodeEncodeError):
        return reference_canonical_json(value)


def legacy_canonical_json(value: Any, *, check_keys: bool = True) -> bytes:
    """The canonical bytes of log format 1 (see the module docstring).

    ``check_keys=False`` skips the walk that refuses non-str keys: for values just read from
    JSON, whose keys are str by construction."""
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


def canonical_json_for(fmt: int) -> Callable[..., bytes]:
    """The canonical form of log format ``fmt``."""
    if fmt == 1:
        return legacy_canonical_json
    if fmt == 2:
        return canonical_json
    raise InputError(f"log format {fmt} is unknown: this version reads formats 1 and 2")


def sha256_hex(data: bytes) -> str:
    """SHA-256 of ``data`` as 64 lowercase hex characters."""
    return hashlib.sha256(data).hexdigest()
