"""examples/soe_ai_approval.py: the seed's approval snippet, soe-ai's code with only the
import changed, runs as a script."""

from __future__ import annotations

import subprocess
import sys

from .conftest import EXAMPLES


def test_the_soe_ai_approval_example_runs_as_a_script():
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "soe_ai_approval.py")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=EXAMPLES.parent,
    )
    assert done.returncode == 0, done.stderr
    assert "'APPROVED', 'PROCESS_APPROVED', 'COMPLETE'" in done.stdout
    assert "order placed" in done.stdout


def test_the_soe_ai_approval_example_imports_only_from_soe_temporal_soe():
    imports = [
        line
        for line in (EXAMPLES / "soe_ai_approval.py").read_text().splitlines()
        if line.startswith(("import ", "from ")) and "__future__" not in line
    ]
    soe_imports = [line for line in imports if "soe" in line]
    assert soe_imports and all(line.startswith("from soe_temporal.soe") for line in soe_imports)
