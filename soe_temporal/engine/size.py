"""How large a value is, as the JSON that carries it (state and payload size checks)."""

from __future__ import annotations

import json
from typing import Any

# One encoder for every measurement: json.dumps builds a new one per call. ASCII output
# (non-ASCII escaped, as Temporal's JSON converter writes it), so characters are bytes.
_COMPACT = json.JSONEncoder(separators=(",", ":"), default=str)


def json_size(value: Any) -> int:
    """Bytes of ``value`` as compact JSON, as Temporal's JSON converter writes it."""
    return len(_COMPACT.encode(value))
