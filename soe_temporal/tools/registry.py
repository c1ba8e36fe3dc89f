"""The tools registry a worker is given (F-API-6), and how a tool is called (F-TOOL-6).

Entries keep SOE's shapes: a callable, or ``{function, max_retries, failure_signal,
process_accumulated}``. soe_temporal adds an optional ``temporal`` mapping of activity
options (timeouts, retry policy, ``local``) that applies to every node using the tool.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from pydantic import BaseModel, create_model

from ..config import config_schema, temporal_options_problem
from ..engine.calls import parameter_value
from ..engine.signatures import ToolDescription, describe_function
from ..errors import ConfigError


@dataclass(frozen=True)
class ToolEntry:
    name: str
    function: Callable[..., Any]
    max_retries: int = 0
    failure_signal: str | None = None
    process_accumulated: bool = False
    temporal: dict[str, Any] = field(default_factory=dict)


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
    value = parameter_value(value, entry.name)
    if entry.process_accumulated and isinstance(value, list):
        return [value], {}
    if not isinstance(value, Mapping):
        # SOE calls tool(**value), which fails as the attempt's own error (F-TOOL-6).
        raise TypeError(
            f"{entry.name}() argument after ** must be a mapping, not {type(value).__name__}"
        )
    return [], dict(value)


def describe_tool(entry: ToolEntry) -> ToolDescription:
    """How an agent sees a registry tool: by its function's own name (F-AGENT-2/3), with
    the JSON Schema of SOE's arguments model (F-AGENT-7) where Pydantic can build one."""
    described = describe_function(entry.function, getattr(entry.function, "__name__", entry.name))
    model = arguments_model(entry.function)
    if model is None:
        return described
    try:
        schema = model.model_json_schema()
    except Exception:  # an annotation Pydantic validates but cannot describe
        return described
    return dataclasses.replace(described, arguments_schema=schema)


def arguments_model(function: Callable[..., Any]) -> type[BaseModel] | None:
    """SOE's arguments model of a tool an agent calls (F-AGENT-7): one field per parameter
    (no annotation: any; no default: required), named ``<function>Schema``. ``None`` when
    Pydantic cannot build one (an annotation it does not know, a ``_private`` name)."""
    name = getattr(function, "__name__", "tool")
    try:
        parameters = inspect.signature(function).parameters.values()
        hints = typing.get_type_hints(function)
    except Exception:
        return None
    fields: dict[str, Any] = {}
    for parameter in parameters:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        annotation = hints.get(parameter.name, Any)
        default = ... if parameter.default is inspect.Parameter.empty else parameter.default
        fields[parameter.name] = (annotation, default)
    try:
        return create_model(f"{name}Schema", **fields)
    except Exception:
        return None


def agent_arguments(model: type[BaseModel] | None, arguments: dict[str, Any]) -> dict[str, Any]:
    """The arguments an agent's tool receives (F-AGENT-7): validated by the arguments model,
    as SOE's are, then dumped (``10`` for a ``float`` is ``10.0``, an ISO text for a
    ``datetime`` is a datetime, a nested model is a mapping). Raises Pydantic's
    ``ValidationError`` for arguments the model refuses."""
    if model is None:
        return arguments
    return model.model_validate(arguments).model_dump()
