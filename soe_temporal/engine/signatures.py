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
        hints = typing.get_type_hints(function)
    except Exception:
        hints = {}
    properties: dict[str, Any] = {}
    required: list[str] = []
    for parameter in _parameters(function, skip):
        missing = parameter.annotation is inspect.Parameter.empty
        resolved = hints.get(parameter.name) or _resolve(parameter.annotation, function)
        schema = {} if missing else annotation_schema(resolved)
        schema = {**schema, "title": parameter.name.replace("_", " ").title()}
        if parameter.default is inspect.Parameter.empty:
            required.append(parameter.name)
        elif _is_json(parameter.default):
            schema["default"] = parameter.default
        properties[parameter.name] = schema
    arguments: dict[str, Any] = {
        "properties": properties,
        "title": f"{name}Schema",
        "type": "object",
    }
    if required:
        arguments["required"] = required
    text = signature_text(function, name, skip)
    return ToolDescription(name, text, pydantic_order(arguments))


def signature_text(
    function: Callable[..., Any], name: str | None = None, skip: tuple[str, ...] = ()
) -> str:
    """F-AGENT-3: ``name(param: annotation, ...)``, a newline, two spaces, the docstring;
    each annotation as SOE shows it (as written: a string under postponed annotations)."""
    name = name or getattr(function, "__name__", "tool")
    shown = [
        f"{p.name}: {'Any' if p.annotation is inspect.Parameter.empty else p.annotation}"
        for p in _parameters(function, skip)
    ]
    doc = inspect.getdoc(function) or "No description"
    return f"{name}({', '.join(shown)})\n  {doc}"


def pydantic_order(schema: Any, in_properties: bool = False) -> Any:
    """Keys sorted as Pydantic sorts them in ``model_json_schema()`` (property names keep
    their order), so the schema a model is shown reads as SOE's does."""
    if isinstance(schema, list):
        return [pydantic_order(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    keys = schema if in_properties else sorted(schema)
    return {
        key: schema[key]
        if key in ("default", "enum", "const")
        else pydantic_order(schema[key], key == "properties" and not in_properties)
        for key in keys
    }


def _parameters(function: Callable[..., Any], skip: tuple[str, ...]) -> list[inspect.Parameter]:
    """The parameters an agent fills: not ``*args``/``**kwargs``, not those in ``skip``."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return []
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [p for p in parameters if p.kind not in variadic and p.name not in skip]


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
    """A JSON Schema for a Python annotation, as far as one can say (``{}`` is any), in
    the shape Pydantic gives it."""
    if annotation in (list, tuple, set, frozenset):
        unique = {"uniqueItems": True} if annotation in (set, frozenset) else {}
        return {"items": {}, "type": "array", **unique}
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
    if origin is tuple and arguments and arguments[-1] is not Ellipsis:
        items = [annotation_schema(a) for a in arguments]
        return {
            "maxItems": len(items),
            "minItems": len(items),
            "prefixItems": items,
            "type": "array",
        }
    if origin in (list, tuple, set, frozenset) or origin is collections.abc.Sequence:
        schema: dict[str, Any] = {"type": "array"}
        if arguments:
            schema["items"] = annotation_schema(arguments[0])
        if origin in (set, frozenset):
            schema["uniqueItems"] = True
        return schema
    if origin in (dict, collections.abc.Mapping):
        if len(arguments) == 2:
            return {"additionalProperties": annotation_schema(arguments[1]), "type": "object"}
        return {"type": "object"}
    if origin is typing.Literal:
        schema = {"enum": list(arguments)}
        kinds = {_SIMPLE_TYPES.get(type(a)) for a in arguments}
        if len(kinds) == 1 and None not in kinds:
            schema["type"] = kinds.pop()
        return schema
    return {}


def _is_json(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool, list, dict))
