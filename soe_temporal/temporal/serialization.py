"""What may enter an execution's state: JSON data, as Temporal's JSON converter makes it.

Dataclasses, pydantic models, datetimes and UUIDs are converted as temporalio's converter
converts them. Sets, bytes and arbitrary objects are refused rather than turned into a
list or their string form (DESIGN.md, F-CTX-12): a message names where the value sits and
its type.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import json
from typing import Any

from temporalio.converter import AdvancedJSONEncoder


class NotJsonData(ValueError):
    """A value Temporal's JSON converter cannot carry faithfully."""

    def __init__(self, where: str, value: Any) -> None:
        self.where = where
        self.type_name = type(value).__name__
        hint = {
            "set": "use a list",
            "frozenset": "use a list",
            "bytes": "decode it to text or base64-encode it",
            "bytearray": "decode it to text or base64-encode it",
        }.get(self.type_name, "return dicts, lists, strings, numbers, booleans or None")
        super().__init__(f"{where} is a {self.type_name}, which is not JSON data; {hint}")


class _StrictEncoder(AdvancedJSONEncoder):
    def default(self, o: Any) -> Any:
        model_dump = getattr(o, "model_dump", None)
        if callable(model_dump) and not isinstance(o, type):
            return model_dump(mode="json")
        if isinstance(o, (set, frozenset, bytes, bytearray)):
            raise TypeError(type(o).__name__)
        if (
            isinstance(o, collections.abc.Iterable)
            and not dataclasses.is_dataclass(o)
            and not callable(getattr(o, "dict", None))
        ):
            raise TypeError(type(o).__name__)
        return super().default(o)


def to_json_data(value: Any, where: str) -> Any:
    """``value`` as plain JSON data; raises :class:`NotJsonData` naming ``where``."""
    try:
        return json.loads(json.dumps(value, cls=_StrictEncoder))
    except (TypeError, ValueError):
        raise _locate(value, where) from None


def _locate(value: Any, where: str) -> NotJsonData:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        for key, item in value.items():
            if not _encodes(item):
                return _locate(item, f"{where}[{key!r}]")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            if not _encodes(item):
                return _locate(item, f"{where}[{index}]")
    return NotJsonData(where, value)


def _encodes(value: Any) -> bool:
    try:
        json.dumps(value, cls=_StrictEncoder)
    except (TypeError, ValueError):
        return False
    return True
