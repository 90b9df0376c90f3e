"""Deconflict: keep the aircraft of independent, mutually distrustful operators apart.

One flat public namespace, as in shapely: ``deconflict.detect``, ``deconflict.alert``, ...
Submodules (rooms) are listed in docs/architecture.md.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
