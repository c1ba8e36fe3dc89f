"""What every benchmark prints: the machine, and min/median/max of its runs."""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Sequence


def machine() -> str:
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def spread(values: Sequence[float], scale: float = 1, digits: int = 2) -> str:
    """``min/median/max`` of ``values`` times ``scale``."""
    scaled = [value * scale for value in values]
    return (
        f"{min(scaled):.{digits}f}/{statistics.median(scaled):.{digits}f}/{max(scaled):.{digits}f}"
    )


def ratios(ours: Sequence[float], theirs: Sequence[float]) -> list[float]:
    """Run by run: the runs of a round are taken side by side."""
    return [a / b for a, b in zip(ours, theirs, strict=True)]
