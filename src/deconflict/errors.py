"""One exception hierarchy for the whole library. Every message says what was wrong and what to do.

A single call raises one of these; stream and file runs record them as error records instead
(see ``deconflict.surveillance`` and ``deconflict.predict.states``).
"""

from __future__ import annotations

from typing import Any


class DeconflictError(Exception):
    """Base of every error Deconflict raises on purpose."""


class InputError(DeconflictError, ValueError):
    """Input data is malformed: a missing or misspelt column, a value out of range, a bad file."""


class UnknownNameError(DeconflictError, KeyError):
    """A name (standard, decoder, algorithm) that is not registered."""

    def __str__(self) -> str:  # KeyError quotes its argument; we want the sentence
        return str(self.args[0]) if self.args else ""


class DecodeError(InputError):
    """A frame or record that cannot be decoded (bad length, bad CRC, unknown format)."""


class ConfigError(DeconflictError):
    """A configuration file or setting is invalid."""


class StorageError(DeconflictError):
    """The store cannot do what was asked (bad URL, migration needed, integrity violation)."""


class ConflictError(DeconflictError):
    """A write was refused because of a conflict (e.g. missing proof of awareness)."""


class AwarenessError(ConflictError):
    """Committing needs the version tokens of conflicting operations the caller did not give;
    ``missing`` holds each one's need-to-know view."""

    def __init__(self, message: str, missing: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.missing = missing


class NotFoundError(DeconflictError, LookupError):
    """Something asked for by id does not exist, or is not visible to the asking party."""


class PermissionDeniedError(DeconflictError):
    """The caller is authenticated but may not do this."""


class AuthenticationError(DeconflictError):
    """The caller could not be authenticated (missing, unknown or revoked token or key)."""


class VerificationError(DeconflictError):
    """A signature, hash chain or log failed verification."""


class FeedError(DeconflictError):
    """A live feed could not be set up or fell behind (e.g. the simulator's loopback sensors)."""


class ClusterError(DeconflictError):
    """The Dask scheduler could not be reached, or was lost during a run (finished work is kept)."""


class ProbeTooLargeError(DeconflictError):
    """A declaration too large to be shown what it meets of other parties' operations (413)."""


class UnsignedError(InputError):
    """A party write that must carry the party's signature came without it (422); ``content``
    is what to sign (its canonical JSON), returned to the client as ``to_sign``."""

    def __init__(self, message: str, content: dict[str, Any]) -> None:
        super().__init__(message)
        self.content = content
