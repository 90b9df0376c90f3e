"""Deconflict: keep the aircraft of independent, mutually distrustful operators apart.

One flat public namespace, as in shapely: ``deconflict.detect``, ``deconflict.alert``, ...
Names load lazily from their rooms (docs/architecture.md), so ``import deconflict`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> "module" (same name there) or "module:attribute" (exported under another name)
_EXPORTS: dict[str, str] = {
    # errors
    "DeconflictError": "deconflict.errors",
    "InputError": "deconflict.errors",
    "DecodeError": "deconflict.errors",
    "ConfigError": "deconflict.errors",
    "UnknownNameError": "deconflict.errors",
    "StorageError": "deconflict.errors",
    "ConflictError": "deconflict.errors",
    "AwarenessError": "deconflict.errors",
    "NotFoundError": "deconflict.errors",
    "PermissionDeniedError": "deconflict.errors",
    "AuthenticationError": "deconflict.errors",
    "VerificationError": "deconflict.errors",
    "ClusterError": "deconflict.errors",
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
    "wcv_violated_now": "deconflict.predict.wcv",
    # surveillance
    "decode": "deconflict.surveillance",
    "decode_frames": "deconflict.surveillance",
    "decode_message": "deconflict.surveillance",
    "detect_format": "deconflict.surveillance",
    "get_decoder": "deconflict.surveillance",
    "DECODERS": "deconflict.surveillance",
    "Report": "deconflict.surveillance",
    "REPORT_COLUMNS": "deconflict.surveillance",
    "load_sensors": "deconflict.surveillance.sensors",
    "polar_to_geographic": "deconflict.surveillance.sensors",
    # tracking and identification
    "Tracker": "deconflict.tracking",
    "TrackerConfig": "deconflict.tracking",
    "replay_tracks": "deconflict.tracking:replay",
    "ospa": "deconflict.tracking",
    "Registry": "deconflict.identify.registry",
    "PartyIdentifiers": "deconflict.identify.registry",
    "classify": "deconflict.identify.classify",
    "identification_requests": "deconflict.identify.classify",
    "IdentificationRequest": "deconflict.identify.request",
    "open_request": "deconflict.identify.request",
    "record_answer": "deconflict.identify.request",
    "evaluate_request": "deconflict.identify.request:evaluate",
    # strategic
    "Volume4D": "deconflict.strategic.model",
    "Operation": "deconflict.strategic.model",
    "OperationDraft": "deconflict.strategic.model",
    "parse_operation": "deconflict.strategic.model",
    "build_operation": "deconflict.strategic.model",
    "OperationIndex": "deconflict.strategic.index",
    "ConflictRule": "deconflict.strategic.rules",
    "check_awareness": "deconflict.strategic.rules",
    "evaluate_operation": "deconflict.strategic.rules:evaluate",
    "intersection_view": "deconflict.strategic.need_to_know",
    "visible_operations": "deconflict.strategic.need_to_know",
    "constraints_from_geojson": "deconflict.strategic.constraints",
    "check_operation": "deconflict.strategic.constraints",
    "area_proximity": "deconflict.strategic.constraints",
    # hotline and the signed log
    "canonical_json": "deconflict.hotline.canonical",
    "LogEntry": "deconflict.hotline.log",
    "append_entry": "deconflict.hotline.log",
    "verify_log": "deconflict.hotline.log",
    "write_log_jsonl": "deconflict.hotline.jsonl",
    "read_log_jsonl": "deconflict.hotline.jsonl",
    "Signer": "deconflict.hotline.keys",
    "KeyRing": "deconflict.hotline.keys",
    "Message": "deconflict.hotline.messages",
    "make_message": "deconflict.hotline.messages",
    "Mailbox": "deconflict.hotline.delivery",
    "escalate": "deconflict.hotline.escalation",
    "update_notices": "deconflict.hotline.notices",
    # service and store
    "create_app": "deconflict.service.app",
    "Settings": "deconflict.settings",
    "open_store": "deconflict.store",
    # analysis and Monte Carlo
    "analyse_files": "deconflict.analysis",
    "write_synthetic_day": "deconflict.analysis",
    "run_study": "deconflict.montecarlo.runner",
    "load_procedures": "deconflict.montecarlo.procedures",
    "Procedures": "deconflict.montecarlo.procedures",
    # incidents
    "Incident": "deconflict.incidents.record",
    "detect_incidents": "deconflict.incidents.detect",
    "render_incident_html": "deconflict.incidents.report",
    "render_incident_pdf": "deconflict.incidents.report",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'deconflict' has no attribute {name!r}")
    module, _, attribute = target.partition(":")
    value = getattr(importlib.import_module(module), attribute or name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
