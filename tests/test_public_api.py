"""The flat public namespace: every exported name resolves, and importing is cheap."""

from __future__ import annotations

import subprocess
import sys

import deconflict


def test_every_exported_name_resolves() -> None:
    for name in deconflict.__all__:
        assert getattr(deconflict, name) is not None, name
    assert deconflict.detect.__module__ == "deconflict.predict.detect"
    assert deconflict.evaluate_request.__name__ == "evaluate"


def test_import_does_not_load_the_rooms() -> None:
    code = "import sys, deconflict; print(sorted(m for m in sys.modules if m.startswith('deconflict.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
