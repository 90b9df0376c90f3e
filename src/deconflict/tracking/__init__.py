"""Tracking room: the multi-sensor tracker (association, filtering, life cycle, identity).

Positions are degrees WGS84 and altitudes ft at the edge (report and track-update tables), metres,
m/s and seconds inside. Time is always passed in.

``tracker.Tracker`` runs an update; its parts are modules of their own: ``batch`` (report tables
as arrays), ``table`` (the tracks' struct-of-arrays storage), ``association`` (by identity, then
by kinematics with ``assign``'s gating and global nearest neighbour), ``filters`` (the Kalman
filters of ``kalman``), ``identity`` (which track holds which icao24, sensor track number and
sensor), ``lifecycle`` (start, coast, drop, merge), ``rows`` (the output in edge units) and
``counters`` (counts and error records).
"""

from deconflict.tracking.batch import (
    TRACK_UPDATE_COLUMNS,
    TRACK_UPDATE_DTYPES,
    ReportBatch,
    plots_batch,
    report_batch,
)
from deconflict.tracking.config import TrackerConfig
from deconflict.tracking.frame import LocalFrame
from deconflict.tracking.metrics import ospa
from deconflict.tracking.replay import replay
from deconflict.tracking.tracker import STATUS_NAMES, Tracker, TrackRows

__all__ = [
    "STATUS_NAMES",
    "TRACK_UPDATE_COLUMNS",
    "TRACK_UPDATE_DTYPES",
    "LocalFrame",
    "ReportBatch",
    "TrackRows",
    "Tracker",
    "TrackerConfig",
    "ospa",
    "plots_batch",
    "replay",
    "report_batch",
]
