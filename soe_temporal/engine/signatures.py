"""How an agent sees a callable (F-AGENT-3/7): its signature text and an arguments schema.

Pure: it only inspects functions, so the engine can describe its own built-ins with it.
"""

from __future__ import annotations

import collections.abc
import inspect
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ToolDescription:
    """How an agent sees a tool (F-AGENT-2/3/7): by its function's own name, with the
    signature text shown to the model and a JSON Schema of its arguments."""

    function_name: str
    signature: str
    arguments_schema: dict[str, Any]


def describe_function(
    function: Callable[..., Any], name: str | None = None, skip: tuple[str, ...] = ()
) -> ToolDescription:
    """``name(param: annotation, ...)`` then two spaces and the docstring (F-AGENT-3).

    ``skip`` leaves out parameters the caller fills itself (a built-in's execution).
    """
    name = name or getattr(function, "__name__", "tool")
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        signature = None
    try:
        hints = typing.get_type_hints(function)
    except Exception:
        hints = {}
    shown: list[str] = []
    properties: dict[str, Any] = {}
    required: list[str] = []
    for parameter in signature.parameters.values() if signature else []:
        if (
            parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
            or parameter.name in skip
        ):
            continue
        # Shown as SOE shows it (the annotation as written, a string under postponed
        # annotations); the schema needs it resolved.
        missing = parameter.annotation is inspect.Parameter.empty
        shown.append(f"{parameter.name}: {'Any' if missing else parameter.annotation}")
        resolved = hints.get(parameter.name) or _resolve(parameter.annotation, function)
        schema = {} if missing else annotation_schema(resolved)
        schema = {**schema, "title": parameter.name.replace("_", " ").title()}
        if parameter.default is inspect.Parameter.empty:
            required.append(parameter.name)
        elif _is_json(parameter.default):
            schema["default"] = parameter.default
        properties[parameter.name] = schema
    doc = inspect.getdoc(function) or "No description"
    arguments: dict[str, Any] = {
        "properties": properties,
        "required": required,
        "title": f"{name}Arguments",
        "type": "object",
    }
    return ToolDescription(name, f"{name}({', '.join(shown)})\n  {doc}", arguments)


_SIMPLE_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean",
                 list: "array", tuple: "array", dict: "object"}  # fmt: skip


def _resolve(annotation: Any, function: Callable[..., Any]) -> Any:
    """One postponed annotation, when the function's hints cannot all be resolved (one
    names a type imported only for type checking)."""
    if not isinstance(annotation, str):
        return annotation
    try:
        return eval(annotation, getattr(function, "__globals__", {}))  # noqa: S307 - code's own annotation
    except Exception:
        return annotation


def annotation_schema(annotation: Any) -> dict[str, Any]:
    """A JSON Schema for a Python annotation, as far as one can say (``{}`` is any)."""
    if annotation in _SIMPLE_TYPES:
        return {"type": _SIMPLE_TYPES[annotation]}
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [annotation_schema(a) for a in arguments if a is not type(None)]
        nullable = type(None) in arguments
        if len(options) == 1 and nullable:
            return {"anyOf": [options[0], {"type": "null"}]}
        return {"anyOf": options + ([{"type": "null"}] if nullable else [])}
    if origin in (list, tuple, set, frozenset) or origin is collections.abc.Sequence:
        schema: dict[str, Any] = {"type": "array"}
        if arguments and origin is not tuple:
            schema["items"] = annotation_schema(arguments[0])
        return schema
    if origin in (dict, collections.abc.Mapping):
        return {"type": "object"}
    if origin is typing.Literal:
        return {"enum": list(arguments)}
    return {}


def _is_json(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool, list, dict))
