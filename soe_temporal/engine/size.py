"""How large a value is, as the JSON that carries it (state and payload size checks)."""

from __future__ import annotations

import json
from typing import Any


def json_size(value: Any) -> int:
    """Bytes of ``value`` as compact JSON, as Temporal's JSON converter writes it."""
    return len(json.dumps(value, separators=(",", ":"), default=str).encode())
