"""The tools registry a worker is given (F-API-6), and how a tool is called (F-TOOL-6).

Entries keep SOE's shapes: a callable, or ``{function, max_retries, failure_signal,
process_accumulated}``. soe_temporal adds an optional ``temporal`` mapping of activity
options (timeouts, retry policy, ``local``) that applies to every node using the tool.
"""

from __future__ import annotations

import collections.abc
import functools
import inspect
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from .config import config_schema, temporal_options_problem
from .errors import ConfigError


@dataclass(frozen=True)
class ToolEntry:
    name: str
    function: Callable[..., Any]
    max_retries: int = 0
    failure_signal: str | None = None
    process_accumulated: bool = False
    temporal: dict[str, Any] = field(default_factory=dict)


class ToolParameterError(ValueError):
    """The arguments in a node's context_parameter_field cannot be read."""


def normalize_registry(registry: Mapping[str, Any] | None) -> dict[str, ToolEntry]:
    """Check every entry (F-VAL-9 rules) when the worker is created, not at call time."""
    return {name: _entry(name, value) for name, value in (registry or {}).items()}


def _entry(name: str, value: Any) -> ToolEntry:
    if callable(value):
        return ToolEntry(name=name, function=value)
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"Tool '{name}' registry entry must be a callable or dict with 'function' key"
        )
    if "function" not in value:
        raise ConfigError(f"Tool '{name}' registry entry dict must have 'function' key")
    if not callable(value["function"]):
        raise ConfigError(f"Tool '{name}' 'function' must be callable")
    max_retries = value.get("max_retries", 0)
    if not isinstance(max_retries, int) or max_retries < 0:
        raise ConfigError(f"Tool '{name}' 'max_retries' must be a non-negative integer")
    failure_signal = value.get("failure_signal")
    if failure_signal is not None and not isinstance(failure_signal, str):
        raise ConfigError(f"Tool '{name}' 'failure_signal' must be a string")
    temporal = value.get("temporal") or {}
    check_temporal_options(temporal, f"Tool '{name}'")
    return ToolEntry(
        name=name,
        function=value["function"],
        max_retries=max_retries,
        failure_signal=failure_signal,
        process_accumulated=bool(value.get("process_accumulated", False)),
        temporal=dict(temporal),
    )


def check_temporal_options(options: Any, owner: str) -> None:
    """Validate a ``temporal`` mapping with the rules of a node's ``temporal:`` block."""
    error = next(iter(_temporal_validator().iter_errors(options)), None)
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path)
        raise ConfigError(f"{owner}: 'temporal{'.' + where if where else ''}': {error.message}")
    problem = temporal_options_problem(options)
    if problem:
        raise ConfigError(f"{owner}: {problem}")


@functools.cache
def _temporal_validator() -> Draft202012Validator:
    schema = config_schema()
    return Draft202012Validator({**schema["$defs"]["temporal_options"], "$defs": schema["$defs"]})


def shape_arguments(
    entry: ToolEntry, parameters: dict[str, Any] | None, parameter_history: list[Any] | None
) -> tuple[list[Any], dict[str, Any]]:
    """F-TOOL-4/6: positional and keyword arguments for one call."""
    if parameter_history is None:
        return [], dict(parameters or {})
    value: Any = parameter_history if entry.process_accumulated else parameter_history[-1]
    if isinstance(value, str):
        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError as error:
            raise ToolParameterError(
                f"Tool '{entry.name}': the parameter field is a string but not valid JSON/YAML: {error}"
            ) from None
    if entry.process_accumulated and isinstance(value, list):
        return [value], {}
    if not isinstance(value, Mapping):
        # SOE calls tool(**value), which fails as the attempt's own error (F-TOOL-6).
        raise TypeError(
            f"{entry.name}() argument after ** must be a mapping, not {type(value).__name__}"
        )
    return [], dict(value)


@dataclass(frozen=True)
class ToolDescription:
    """How an agent sees a tool (F-AGENT-2/3/7): by its function's own name, with the
    signature text shown to the model and a JSON Schema of its arguments."""

    function_name: str
    signature: str
    arguments_schema: dict[str, Any]


def describe_tool(entry: ToolEntry) -> ToolDescription:
    function = entry.function
    name = getattr(function, "__name__", entry.name)
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
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        # Shown as SOE shows it (the annotation as written, a string under postponed
        # annotations); the schema needs it resolved.
        missing = parameter.annotation is inspect.Parameter.empty
        shown.append(f"{parameter.name}: {'Any' if missing else parameter.annotation}")
        resolved = hints.get(parameter.name, parameter.annotation)
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
