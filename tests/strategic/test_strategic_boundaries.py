"""The strategic kernel is pure: it imports no store, engine or service, nor any web or SQL."""

from __future__ import annotations

import subprocess
import sys


def test_strategic_imports_no_store_engine_service() -> None:
    code = (
        "import sys, deconflict.strategic.constraints, deconflict.strategic.need_to_know, "
        "deconflict.strategic.rules; "
        "bad = [m for m in sys.modules if m.split('.')[0] in {'sqlalchemy', 'fastapi', 'httpx'} "
        "or m.startswith(('deconflict.store', 'deconflict.engine', 'deconflict.service'))]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
