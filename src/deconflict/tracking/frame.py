"""The tracker's local frame: ``deconflict.geo.LocalFrame``, the one local projection (degrees
WGS84 at the edge, east/north metres and m/s inside), under the name the tracker's modules import.
"""

from __future__ import annotations

from deconflict.geo import LocalFrame

__all__ = ["LocalFrame"]
