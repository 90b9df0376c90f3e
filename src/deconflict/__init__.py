"""Deconflict: keep the aircraft of independent, mutually distrustful operators apart.

One flat public namespace, as in shapely: ``deconflict.detect``, ``deconflict.alert``, ...
Names load lazily from their rooms (docs/architecture.md), so ``import deconflict`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # errors
    "DeconflictError": "deconflict.errors",
    "InputError": "deconflict.errors",
    "DecodeError": "deconflict.errors",
    "ConfigError": "deconflict.errors",
    "UnknownNameError": "deconflict.errors",
    "StorageError": "deconflict.errors",
    "ConflictError": "deconflict.errors",
    "NotFoundError": "deconflict.errors",
    "PermissionDeniedError": "deconflict.errors",
    "AuthenticationError": "deconflict.errors",
    "VerificationError": "deconflict.errors",
    # predict
    "detect": "deconflict.predict.detect",
    "Standard": "deconflict.predict.standards",
    "Volume": "deconflict.predict.standards",
    "AlertLevel": "deconflict.predict.standards",
    "get_standard": "deconflict.predict.standards",
    "load_standards": "deconflict.predict.standards",
    "register_standard": "deconflict.predict.standards",
    "standard_names": "deconflict.predict.standards",
    "wcv_interval": "deconflict.predict.wcv",
    "alert": "deconflict.predict.daidalus.api",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'deconflict' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from deconflict.errors import (
        AuthenticationError,
        ConfigError,
        ConflictError,
        DecodeError,
        DeconflictError,
        InputError,
        NotFoundError,
        PermissionDeniedError,
        StorageError,
        UnknownNameError,
        VerificationError,
    )
    from deconflict.predict.daidalus.api import alert
    from deconflict.predict.detect import detect
    from deconflict.predict.standards import (
        AlertLevel,
        Standard,
        Volume,
        get_standard,
        load_standards,
        register_standard,
        standard_names,
    )
    from deconflict.predict.wcv import wcv_interval
