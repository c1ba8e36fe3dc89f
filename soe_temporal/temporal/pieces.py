"""Large workflow arguments as pieces, each a payload of its own, so the payload store
keeps what stays the same from one run (or one child) to the next only once.

SOE state grows by appending: a field's history gets one more value, the conversation one
more turn, a waiting call's prompt a longer conversation. So every list, mapping or text
of more than ``PIECE_BYTES`` of JSON is cut into pieces from its start (list elements and
mapping items grouped greedily by size, texts sliced), and an appended value changes only
the last piece. The argument keeps a marker in each cut value's place; the pieces follow
it as further arguments, and ``join`` puts the value back together.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..engine.size import json_size

# A value of more JSON than this is cut, into pieces of about this size.
PIECE_BYTES = 64 * 1024
# The marker of a cut value: a mapping with this one key (a NUL keeps it apart from user
# data), naming the kind of value and the indices of its pieces.
_MARK = "\x00soe-pieces"
# About the size of a marker, as its container counts it.
_MARK_BYTES = 64


def cut(value: Any) -> tuple[Any, list[Any]]:
    """``value`` with every large list, mapping or text replaced by a marker, and the
    pieces the markers name, in order."""
    pieces: list[Any] = []

    def mark(kind: str, parts: list[Any]) -> dict[str, Any]:
        indices = list(range(len(pieces), len(pieces) + len(parts)))
        pieces.extend(parts)
        return {_MARK: [kind, indices]}

    def grouped(kind: str, items: list[Any], sizes: list[int]) -> dict[str, Any]:
        groups: list[list[Any]] = [[]]
        filled = 0
        for item, size in zip(items, sizes, strict=True):
            if filled and filled + size > PIECE_BYTES:
                groups.append([])
                filled = 0
            groups[-1].append(item)
            filled += size
        return mark(kind, groups)

    def walk(item: Any, size: int) -> tuple[Any, int]:
        """The item as it travels, and its size then, given its size as JSON: only what
        is over the piece size is looked into, so a value that needs no cutting costs one
        encoding."""
        if size <= PIECE_BYTES:
            return item, size
        if isinstance(item, str):
            slices = [item[i : i + PIECE_BYTES] for i in range(0, len(item), PIECE_BYTES)]
            return mark("text", slices), _MARK_BYTES
        if isinstance(item, list):
            walked = [walk(element, json_size(element)) for element in item]
            values, sizes = [v for v, _ in walked], [s for _, s in walked]
            travelling = sum(sizes) + len(sizes) + 1
            if travelling <= PIECE_BYTES:  # what made it large travels in pieces already
                return values, travelling
            return grouped("list", values, sizes), _MARK_BYTES
        if isinstance(item, dict):
            pairs = [(key, *walk(element, json_size(element))) for key, element in item.items()]
            sizes = [len(str(key)) + 4 + s for key, _, s in pairs]
            if sum(sizes) + 1 <= PIECE_BYTES:
                return {key: v for key, v, _ in pairs}, sum(sizes) + 1
            return grouped("items", [[key, v] for key, v, _ in pairs], sizes), _MARK_BYTES
        return item, size

    return walk(value, json_size(value))[0], pieces


def set_apart(
    container: dict[str, Any],
    key: str,
    pieces: list[Any],
    as_piece: Callable[[Any], Any] = lambda value: value,
) -> None:
    """Move ``container[key]`` whole into a piece of its own (``as_piece`` of it), leaving
    a marker in its place."""
    pieces.append(as_piece(container[key]))
    container[key] = {_MARK: ["whole", [len(pieces) - 1]]}


def is_cut(value: Any) -> bool:
    """Whether ``value`` is a marker ``cut`` or ``set_apart`` left."""
    return isinstance(value, dict) and list(value) == [_MARK]


def join(value: Any, pieces: list[Any]) -> Any:
    """The value ``cut`` made ``value`` and ``pieces`` of. It shares no list or mapping
    with ``value`` or with a piece itself (``WorkflowArguments.release`` empties them), only
    what the pieces hold."""
    # Each piece is named by exactly one marker. When ``value``'s own markers name them all,
    # no piece holds a marker, and what the pieces hold is taken as it is, not walked and
    # copied (a config of hundreds of nodes, a state's long histories).
    return _joined(value, pieces, nested=len(_named(value)) < len(pieces))


def _named(value: Any) -> set[int]:
    """The pieces the markers in ``value`` name (not looking into the pieces)."""
    if isinstance(value, list):
        return set().union(*map(_named, value))
    if not isinstance(value, dict):
        return set()
    if list(value) == [_MARK]:
        return set(value[_MARK][1])
    return set().union(*map(_named, value.values()))


def _joined(value: Any, pieces: list[Any], nested: bool) -> Any:
    if isinstance(value, list):
        return [_joined(item, pieces, nested) for item in value]
    if not isinstance(value, dict):
        return value
    if list(value) != [_MARK]:
        return {key: _joined(item, pieces, nested) for key, item in value.items()}
    kind, indices = value[_MARK]
    parts = [pieces[index] for index in indices]
    if kind == "text":
        return "".join(parts)
    if kind == "whole":
        whole = parts[0]
        if nested:
            return _joined(whole, pieces, nested)
        return whole.copy() if isinstance(whole, (dict, list)) else whole
    flat = [item for part in parts for item in part]
    if kind == "list":
        return [_joined(item, pieces, nested) for item in flat] if nested else flat
    if nested:
        return {key: _joined(item, pieces, nested) for key, item in flat}
    return dict(flat)
