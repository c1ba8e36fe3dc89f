"""What many executions on one worker hold alike, held once.

A worker caches every execution it runs, and SOE executions wait: thousands of idle
executions of one config each held its own decoded copy of the same registry, and of the
same worker options. Equal values (equal JSON, in order) are shared instead. That is safe
because neither is ever changed in place: built-ins replace the registry (F-EXEC-6's
snapshot), and worker options are read-only. Values no execution holds any more go.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from .dataclass_json import DataclassJSONEncoder

T = TypeVar("T")
R = TypeVar("R")


class _SharedRegistry(dict):  # type: ignore[type-arg]
    """A registry dict that can be referred to weakly (a plain dict cannot)."""


_registries: weakref.WeakValueDictionary[str, _SharedRegistry] = weakref.WeakValueDictionary()
_values: weakref.WeakValueDictionary[tuple[type, str], Any] = weakref.WeakValueDictionary()


def shared_registry(registry: dict[str, Any]) -> dict[str, Any]:
    """The one registry equal to ``registry`` that executions on this worker share."""
    key = json.dumps(registry, separators=(",", ":"))
    found = _registries.get(key)
    if found is None:
        found = _registries[key] = _SharedRegistry(registry)
    return found


def shared_value(value: T) -> T:
    """The one instance equal to ``value`` (a dataclass of JSON data) held here."""
    key = (type(value), json.dumps(value, cls=DataclassJSONEncoder, separators=(",", ":")))
    found = _values.get(key)
    if found is None:
        _values[key] = found = value
    return found


_derived: dict[tuple[int, Any], Any] = {}


def derived(source: T, make: Callable[[T], R]) -> R:
    """``make(source)``, made once per ``source`` object (a shared value) and dropped with
    it: what every execution reads off shared worker options, held once too."""
    key = (id(source), make)
    found = _derived.get(key)
    if found is None:
        found = _derived[key] = make(source)
        weakref.finalize(source, _derived.pop, key, None)
    return found
