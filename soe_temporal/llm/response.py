"""What a model must answer, and whether it did (SOE_SPEC §13.3-13.4, §16).

A ``context_schema`` field definition becomes a JSON Schema; the response model wraps it
(or not) and adds ``selected_signals`` when the model chooses signals. Answers are read
with Pydantic's lax rules (F-PROTO-5: numeric strings become numbers, "yes" becomes true,
...) and then validated with jsonschema. Pure and deterministic: it runs in the workflow.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

from .protocol import Issue, extract_json

# F-SCHEMA-2: SOE's type names and aliases (case-insensitive); anything else is "any".
TYPE_NAMES = {
    "string": "string", "text": "string", "str": "string",
    "integer": "integer", "int": "integer",
    "number": "number", "float": "number",
    "boolean": "boolean", "bool": "boolean",
    "list": "array", "array": "array",
    "dict": "object", "object": "object",
}  # fmt: skip

_TRUE = {"true", "yes", "on", "t", "y", "1"}
_FALSE = {"false", "no", "off", "f", "n", "0"}


def field_schema(definition: Any) -> dict[str, Any]:
    """F-SCHEMA-1/2/5/6: a context_schema definition as JSON Schema (``{}`` is any)."""
    if isinstance(definition, str):
        definition = {"type": definition}
    if not isinstance(definition, dict):
        return {}
    kind = TYPE_NAMES.get(str(definition.get("type") or "any").strip().lower())
    if kind is None:
        return {}
    schema: dict[str, Any] = {"type": kind}
    if kind == "array" and definition.get("items") is not None:
        schema["items"] = field_schema(definition["items"])
    properties = definition.get("properties")
    if kind == "object" and isinstance(properties, dict) and properties:
        schema["properties"] = {name: _property_schema(item) for name, item in properties.items()}
        schema["required"] = [name for name, item in properties.items() if _property_required(item)]
    return schema


def _property_required(definition: Any) -> bool:
    """F-SCHEMA-5: required unless ``required: false`` or a non-null ``default``."""
    if not isinstance(definition, dict):
        return True
    return bool(definition.get("required", True)) and definition.get("default") is None


def _property_schema(definition: Any) -> dict[str, Any]:
    schema = field_schema(definition)
    description = definition.get("description") if isinstance(definition, dict) else None
    if description:
        schema["description"] = description
    if _property_required(definition):
        return schema
    default = definition.get("default") if isinstance(definition, dict) else None
    optional: dict[str, Any] = {"anyOf": [schema, {"type": "null"}], "default": default}
    if description:
        optional["description"] = description
    return optional


@dataclass(frozen=True)
class ResponseModel:
    """The answer a model must give: its JSON Schema and how to read it.

    ``output_key`` is the key holding the output in a wrapper object, or ``None`` when
    the answer is the bare value (a root model). ``selectable`` are the signal names the
    model may choose in ``selected_signals``.
    """

    schema: dict[str, Any]
    output_key: str | None
    selectable: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResponseModel:
        return cls(data["schema"], data["output_key"], tuple(data["selectable"]))


def _title(name: str) -> str:
    return name.replace("_", " ").title()


def _class_name(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


def llm_response_model(
    output_field: str | None,
    field_definition: Any = None,
    options: list[tuple[str, str]] | None = None,
) -> ResponseModel:
    """F-PROTO-7: the response model of an LLM node (or an agent's response stage).

    ``field_definition`` is the output field's context_schema entry, ``None`` when it has
    none. ``options`` are the (signal, description) pairs the model chooses from; none
    means the model does not select.
    """
    options = options or []
    selecting = bool(options)
    properties: dict[str, Any] = {}
    if output_field is None:
        properties["output"] = {
            "description": "The final output/result", "title": "Output", "type": "string",
        }  # fmt: skip
        title, key = "DynamicResponse", "output"
    elif field_definition is None:
        properties[output_field] = {
            "description": f"The {output_field} value", "title": _title(output_field),
        }  # fmt: skip
        title, key = f"{_class_name(output_field)}Response", output_field
    elif not selecting:
        root = {"title": f"{_class_name(output_field)}Root", **field_schema(field_definition)}
        return ResponseModel(root, None)
    else:
        properties[output_field] = {
            **field_schema(field_definition),
            "description": f"The {output_field} value matching the expected schema",
            "title": _title(output_field),
        }
        title, key = f"{_class_name(output_field)}Response", output_field
    required = [key]
    if selecting:
        properties["selected_signals"] = selection_schema(options)
    schema = {"properties": properties, "required": required, "title": title, "type": "object"}
    return ResponseModel(schema, key, tuple(name for name, _ in options))


def selection_schema(options: list[tuple[str, str]]) -> dict[str, Any]:
    """F-SIG-7: the optional list of signals the model selects, limited to the options."""
    lines = [f"- {name}: {text}" if text else f"- {name}" for name, text in options]
    return {
        "default": [],
        "description": "Select every signal that applies (none, one or several):\n"
        + "\n".join(lines),
        "items": {"enum": [name for name, _ in options], "type": "string"},
        "title": "Selected Signals",
        "type": "array",
    }


@dataclass
class Answer:
    output: Any
    selected_signals: list[str] = field(default_factory=list)
    # The whole validated answer (for models whose other keys matter, like an agent's).
    value: Any = field(default=None, compare=False)


class InvalidAnswer(ValueError):
    """The reply could not be read as the response model; ``issues`` say why."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        super().__init__("; ".join(f"{i.location or 'response'}: {i.message}" for i in issues))


def read_answer(text: str, model: ResponseModel) -> Answer:
    """F-PROTO-4/5: the validated answer in a model's reply, or :class:`InvalidAnswer`."""
    candidate = extract_json(text)
    try:
        value = json.loads(candidate)
    except (ValueError, RecursionError) as error:  # JSONDecodeError, and numbers too long
        raise InvalidAnswer([Issue("", f"Invalid JSON: {error}")]) from None
    value = coerce(value, model.schema)
    validator = _validator(json.dumps(model.schema, sort_keys=True))
    issues = [_issue(error) for error in validator.iter_errors(value)]
    if issues:
        raise InvalidAnswer(issues)
    if model.output_key is None:
        return Answer(value, value=value)
    # A choice the model was not offered is not read (F-PROTO-7, DESIGN D-4).
    selected = (value.get("selected_signals") or []) if model.selectable else []
    return Answer(value.get(model.output_key), list(selected), value)


def _issue(error: Any) -> Issue:
    """A jsonschema error as a feedback line, worded as Pydantic words it where the two
    agree on what is wrong (SOE's models are Pydantic's), so the model reads the same
    feedback it would under SOE."""
    path = ".".join(str(part) for part in error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = next((key for key in error.validator_value if key not in error.instance), None)
        if missing is not None:
            return Issue(".".join(filter(None, [path, missing])), "Field required")
    if error.validator == "type" and isinstance(error.validator_value, str):
        return Issue(path, _type_message(error.validator_value, error.instance))
    if error.validator == "enum":
        return Issue(path, f"Input should be {_choices(error.validator_value)}")
    return Issue(path, error.message)


def _type_message(expected: str, value: Any) -> str:
    """Pydantic v2's messages for a value of the wrong type."""
    if expected == "integer":
        if isinstance(value, str):
            return "Input should be a valid integer, unable to parse string as an integer"
        if isinstance(value, float):
            return "Input should be a valid integer, got a number with a fractional part"
        return "Input should be a valid integer"
    if expected == "number":
        if isinstance(value, str):
            return "Input should be a valid number, unable to parse string as a number"
        return "Input should be a valid number"
    if expected == "boolean":
        if isinstance(value, (str, int, float)):
            return "Input should be a valid boolean, unable to interpret input"
        return "Input should be a valid boolean"
    names = {"string": "a valid string", "array": "a valid list", "object": "a valid dictionary",
             "null": "None"}  # fmt: skip
    return f"Input should be {names.get(expected, expected)}"


def _choices(options: list[Any]) -> str:
    """``'a', 'b' or 'c'``, as Pydantic lists a literal's or an enum's values."""
    shown = [repr(option) if isinstance(option, str) else json.dumps(option) for option in options]
    if len(shown) <= 1:
        return "".join(shown)
    return f"{', '.join(shown[:-1])} or {shown[-1]}"


@functools.lru_cache(maxsize=256)
def _validator(schema_text: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_text))


def coerce(value: Any, schema: dict[str, Any], root: dict[str, Any] | None = None) -> Any:
    """Pydantic v2's lax conversions (F-PROTO-5) guided by ``schema``; what cannot be
    converted is returned unchanged, for jsonschema to report. ``root`` is the schema that
    local ``$ref``s (``#/$defs/...``, as Pydantic writes a model parameter) point into."""
    root = schema if root is None else root
    if "$ref" in schema:
        schema = _resolve_ref(schema["$ref"], root)
    if "anyOf" in schema:
        if value is None:
            return None
        return coerce(value, schema["anyOf"][0], root)
    kind = schema.get("type")
    if kind == "integer":
        return _to_integer(value)
    if kind == "number":
        return _to_number(value)
    if kind == "boolean":
        return _to_boolean(value)
    if kind == "array" and isinstance(value, list):
        if "prefixItems" in schema:  # a tuple: one schema per position
            positions = schema["prefixItems"]
            return [
                coerce(item, positions[i], root) if i < len(positions) else item
                for i, item in enumerate(value)
            ]
        if "items" in schema:
            return [coerce(item, schema["items"], root) for item in value]
        return value
    if kind == "object" and isinstance(value, dict):
        result = dict(value)  # undeclared keys are kept (F-SCHEMA-5)
        for name, item_schema in (schema.get("properties") or {}).items():
            if name in result:
                result[name] = coerce(result[name], item_schema, root)
            elif "default" in item_schema:
                result[name] = copy.deepcopy(item_schema["default"])
        values = schema.get("additionalProperties")
        if isinstance(values, dict):
            declared = schema.get("properties") or {}
            for name in result:
                if name not in declared:
                    result[name] = coerce(result[name], values, root)
        return result
    return value


def _resolve_ref(reference: str, root: dict[str, Any]) -> dict[str, Any]:
    """The schema a local ``$ref`` names; ``{}`` (any) for one that leads nowhere."""
    if not reference.startswith("#/"):
        return {}
    target: Any = root
    for part in reference[2:].split("/"):
        target = target.get(part) if isinstance(target, dict) else None
    return target if isinstance(target, dict) else {}


_INTEGER_TEXT = re.compile(r"[+-]?\d+(?:_\d+)*(?:\.0*)?", re.ASCII)


def _to_integer(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if _INTEGER_TEXT.fullmatch(text):  # "42", " 42 ", "3.0", "1_000"; not "1e3"
            return int(text.split(".")[0].replace("_", ""))
    return value


def _to_number(value: Any) -> Any:
    """A float, as a Pydantic ``float`` field holds it: ``10`` is ``10.0``, ``"3"`` is
    ``3.0`` (F-AGENT-7, F-PROTO-5)."""
    if isinstance(value, (bool, int)):
        try:
            return float(value)
        except OverflowError:  # too large for a float: jsonschema still takes the int
            return value
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return value
    return value


def _to_boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.lower()  # not stripped: " true " is refused, as Pydantic does
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return value
