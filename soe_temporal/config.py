"""Load and validate an SOE config (SOE_SPEC §3-4) into a :class:`SoeConfig`.

The config's structure, SOE's rule order and its messages live in one JSON Schema file,
``soe_temporal/schema/soe-config.schema.json`` (editors can use it too). jsonschema finds
every violation; ``load_config`` reports the one SOE would report first, in SOE's words,
prefixed with the workflow and node, and ``check_config`` all of them in that order (for
``soe-temporal validate``). The checks a schema cannot express (Jinja syntax, templates
that reach for Python internals, option combinations) run beside it. A required key that
is missing while the node has a near miss of it says so ("did you mean ...?").
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import functools
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from .engine.signals import signal_list_problem
from .engine.templates import has_jinja, sandbox_escape, syntax_error
from .errors import ConfigError
from .temporal.serialization import NotJsonData, to_json_data

SCHEMA_RESOURCE = "schema/soe-config.schema.json"
NODE_TYPES = ("router", "llm", "agent", "tool", "child")
_COMBINED_SECTIONS = ("context_schema", "identities")
_EMPTY = (
    "The config is empty: give at least one workflow, e.g.\n"
    "my_workflow:\n  Start:\n    node_type: router\n    event_triggers: [START]\n"
    "    event_emissions: [{signal_name: DONE}]"
)
_QUOTE = (
    "YAML reads unquoted yes/no/on/off/true/false as booleans and plain numerals as numbers: "
    'put the name in quotes as you wrote it, e.g. "NO" or "404"'
)


@dataclass
class SoeConfig:
    """A validated config: the workflows registry plus the combined format's sections."""

    workflows: dict[str, dict[str, dict[str, Any]]]
    context_schema: dict[str, Any] = field(default_factory=dict)
    identities: dict[str, str] = field(default_factory=dict)
    # The file it was read from, if any (named in the Temporal UI's summary); not config.
    source: str | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The combined format (loads back to an equal config)."""
        return {
            "workflows": copy.deepcopy(self.workflows),
            "context_schema": copy.deepcopy(self.context_schema),
            "identities": dict(self.identities),
        }


def load_config(source: str | os.PathLike[str] | Mapping[str, Any] | SoeConfig) -> SoeConfig:
    """Parse and validate a config given as YAML text, a file path, a mapping or a SoeConfig.

    Raises :class:`ConfigError` naming the workflow, node and key at fault: the first
    failing rule in SOE's order (``check_config`` lists them all).
    """
    if isinstance(source, SoeConfig):
        return source
    check = check_config(source)
    if check.errors or check.config is None:
        raise ConfigError(check.errors[0] if check.errors else _EMPTY)
    if isinstance(source, os.PathLike) or (isinstance(source, str) and _looks_like_path(source)):
        check.config.source = os.fspath(source)
    return check.config


@dataclass
class ConfigCheck:
    """What checking a config found: the document as read (None if it could not be read),
    every failing rule in SOE's order, and the config when no rule failed."""

    document: Any = None
    errors: list[str] = field(default_factory=list)
    config: SoeConfig | None = None

    @property
    def workflows(self) -> Any:
        """The workflows section as written, whatever its shape."""
        document = self.document
        if isinstance(document, Mapping) and "workflows" in document:
            return document["workflows"]
        return document


def check_config(source: str | os.PathLike[str] | Mapping[str, Any] | SoeConfig) -> ConfigCheck:
    """Every rule ``load_config`` applies, without raising: all the errors it finds, in the
    order SOE checks them (the first is the one ``load_config`` raises).

    Reading stops at the first error (the file, the YAML), and so do the checks that come
    before the rules (an empty config, a legacy config with a combined section, names YAML
    typed as booleans or numbers); the schema's and the semantic rules are all reported.
    """
    if isinstance(source, SoeConfig):
        source = source.to_dict()
    try:
        document = _read(source)
    except ConfigError as error:
        return ConfigCheck(errors=[str(error)])
    if document is None or document == "" or document == {}:
        return ConfigCheck(document, [_EMPTY])
    if isinstance(document, Mapping) and "workflows" not in document:
        for section in _COMBINED_SECTIONS:
            if section in document:
                return ConfigCheck(document, [_legacy_with_section(document, section)])
    combined = isinstance(document, Mapping) and "workflows" in document
    errors = _problems(document, combined)
    if errors:
        return ConfigCheck(document, errors)
    workflows = document["workflows"] if combined else document
    config = SoeConfig(
        workflows=dict(workflows),
        context_schema=dict(document.get("context_schema") or {}) if combined else {},
        identities=dict(document.get("identities") or {}) if combined else {},
    )
    try:
        to_json_data(config.to_dict(), "config")
    except NotJsonData as error:
        return ConfigCheck(
            document, [f"{error}. YAML turns unquoted dates and times into objects: quote them."]
        )
    return ConfigCheck(document, [], config)


def _legacy_with_section(document: Mapping[str, Any], section: str) -> str:
    """Q-22: which config is meant, named by the keys that would be read as workflows."""
    read_as_workflows = [str(key) for key in document]
    workflows = [key for key in read_as_workflows if key not in _COMBINED_SECTIONS]
    move = (
        f"Move the workflows ({_names(workflows)}) under 'workflows:'"
        if workflows
        else "Put the workflows under 'workflows:'"
    )
    return (
        f"'{section}' is a section of the combined format, which needs a top-level "
        "'workflows' key; without it every top-level key is read as a workflow (legacy "
        f"format): here {_names(read_as_workflows)}. {move} next to '{section}'."
    )


def _names(names: list[str]) -> str:
    quoted = [f"'{name}'" for name in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"


def validate_workflows(workflows: Mapping[str, Any]) -> None:
    """Validate a workflows registry with every rule; raises ConfigError.

    The registry is given as such (Q-26): a workflow named ``workflows`` is a workflow.
    """
    _validate(dict(workflows), combined=False)


def workflows_problem(workflows: Mapping[str, Any]) -> str | None:
    """Why a workflows registry breaks the config's rules, or None: the check the engine's
    built-ins apply to what they inject (D-16)."""
    try:
        validate_workflows(workflows)
    except ConfigError as error:
        return str(error)
    return None


def _validate(document: Any, combined: bool) -> None:
    """Every rule, schema and semantic; the first failing one in SOE's order is raised."""
    problems = _problems(document, combined)
    if problems:
        raise ConfigError(problems[0])


def _problems(document: Any, combined: bool) -> list[str]:
    """Every failing rule, schema and semantic, in SOE's order, each said once. Names YAML
    typed as booleans or numbers are refused before anything else, and alone."""
    workflows = document.get("workflows") if combined else document
    names = _name_problems(workflows)
    if names:
        return names
    problems: list[_Problem] = [
        _Located(error, document, combined) for error in _validator(combined).iter_errors(document)
    ]
    if isinstance(workflows, Mapping):
        problems += _semantic_problems(workflows, section=0)
    problems.sort(key=lambda problem: problem.order)
    return list(dict.fromkeys(problem.text for problem in problems))


def _name_problems(workflows: Any) -> list[str]:
    """Q-21/Q-22: names YAML typed as booleans or numbers, in declaration order."""
    if not isinstance(workflows, Mapping):
        return []
    problems: list[str] = []
    for workflow_name, nodes in workflows.items():
        if not isinstance(workflow_name, str):
            problems.append(
                f"Workflow name {workflow_name!r} is a {_type_name(workflow_name)}, not a name: {_QUOTE}"
            )
            continue
        if not isinstance(nodes, Mapping):
            continue
        for node_name in nodes:
            if not isinstance(node_name, str):
                problems.append(
                    f"Workflow '{workflow_name}': node name {node_name!r} is a "
                    f"{_type_name(node_name)}, not a name: {_QUOTE}"
                )
    return problems


def check_start_parameters(workflow_name: Any, signals: Any, context: Any) -> None:
    """F-VAL-1, plus the checks that keep a bad start from leaving anything behind."""
    if not isinstance(signals, list):
        raise ConfigError(
            f"'initial_signals' must be a list, got {type(signals).__name__}. "
            "Example: initial_signals=['START']"
        )
    if not signals:
        raise ConfigError(
            "'initial_signals' cannot be empty - at least one signal is required to start execution"
        )
    problem = signal_list_problem(signals)
    if problem:
        raise ConfigError(f"'initial_signals': {problem}")
    if not isinstance(workflow_name, str) or not workflow_name:
        raise ConfigError("'initial_workflow_name' must be a non-empty string")
    if not isinstance(context, Mapping):
        raise ConfigError(
            f"'initial_context' must be a mapping of field names to values, got {type(context).__name__}"
        )


def inherit_config(config: SoeConfig | None, inherited: SoeConfig) -> SoeConfig:
    """F-INH-2: a config given with ``inherit_config_from_id`` replaces the inherited
    workflows entirely; its identities and schema replace the inherited ones only when it
    has them."""
    if config is None:
        return inherited
    return SoeConfig(
        workflows=config.workflows,
        context_schema=config.context_schema or inherited.context_schema,
        identities=config.identities or inherited.identities,
    )


def check_initial_workflow(config: SoeConfig, workflow_name: str) -> None:
    """F-VAL-12."""
    if workflow_name not in config.workflows:
        raise ConfigError(
            f"Workflow '{workflow_name}' not found in config. "
            f"Available workflows: {list(config.workflows)}"
        )


def config_schema() -> dict[str, Any]:
    """The config's JSON Schema (a copy)."""
    return copy.deepcopy(_schema())


# -- the keys a node has ----------------------------------------------------------------


def node_keys(node_type: Any) -> frozenset[str]:
    """The keys SOE reads on a node of this type (every type's, for a type it does not
    know), as the schema lists them; F-CFG-7: any other key is ignored."""
    if node_type in NODE_TYPES:
        return _type_keys(node_type)
    return frozenset().union(*(_type_keys(known) for known in NODE_TYPES))


def emission_keys(node_type: Any) -> frozenset[str]:
    """The keys SOE reads on an item of a node's ``event_emissions``."""
    schema = _type_schema(node_type if node_type in NODE_TYPES else "router")
    return frozenset(schema["properties"]["event_emissions"]["items"].get("properties", {}))


def required_keys(node: Mapping[str, Any]) -> frozenset[str]:
    """The keys a node of its type must have (``child_input_field`` with a fan-out)."""
    node_type = node.get("node_type")
    if node_type not in NODE_TYPES:
        return frozenset({"node_type"})
    schema = _type_schema(node_type)
    keys = {"node_type", *schema.get("required", [])}
    condition = schema.get("if", {}).get("required")
    if condition and all(key in node for key in condition):
        keys.update(schema["then"].get("required", []))
    return frozenset(keys)


@functools.cache
def _type_keys(node_type: str) -> frozenset[str]:
    schema = _type_schema(node_type)
    return frozenset(
        {
            *_schema()["$defs"]["node"]["properties"],
            *schema.get("properties", {}),
            *schema.get("then", {}).get("properties", {}),  # child_input_field
        }
    )


def _type_schema(node_type: str) -> dict[str, Any]:
    return _schema()["$defs"][f"{node_type}_node"]


def closest_key(key: Any, known: Iterable[str]) -> str | None:
    """The known key ``key`` most likely misspells, or None (difflib's 0.6 likeness)."""
    if not isinstance(key, str):
        return None
    matches = difflib.get_close_matches(key, sorted(known), n=1)
    return matches[0] if matches else None


# -- reading --------------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML 1.1 safe loading (F-CFG-2) that refuses a key given twice in one mapping.

    PyYAML silently keeps the last of two nodes with the same name, which loses a node
    without a word; we say so instead.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:
                duplicate = False
            if duplicate:
                raise _DuplicateKey(
                    key, seen[key].start_mark.line + 1, key_node.start_mark.line + 1
                )
            with contextlib.suppress(TypeError):  # unhashable keys: YAML reports them itself
                seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


class _DuplicateKey(Exception):
    def __init__(self, key: Any, first_line: int, second_line: int) -> None:
        self.key, self.first_line, self.second_line = key, first_line, second_line


def parse_yaml(text: str, source: str | None = None) -> Any:
    """YAML text as data; raises ConfigError with SOE's message (F-CFG-2), naming the file
    ``source`` the text came from, if any, and the line and column at fault."""
    where = f"{source}, " if source else ""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except _DuplicateKey as duplicate:
        raise ConfigError(
            f"{source + ': ' if source else ''}'{duplicate.key}' is defined twice in the same mapping (lines "
            f"{duplicate.first_line} and {duplicate.second_line}); YAML would keep only the "
            "last one. Rename or merge them."
        ) from None
    except yaml.MarkedYAMLError as error:
        raise ConfigError(f"Invalid YAML configuration: {where}{_yaml_problem(error)}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"Invalid YAML configuration: {where}{error}") from None


def _yaml_problem(error: yaml.MarkedYAMLError) -> str:
    """``line 4, column 21: mapping values are not allowed here``, plus what YAML was
    reading when it failed, if it says (``while scanning a quoted scalar``, line 2...)."""
    mark = error.problem_mark or error.context_mark
    text = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    text += error.problem or error.context or "not valid YAML"
    if error.context and error.problem and error.context_mark:
        text += (
            f" ({error.context} that started at line {error.context_mark.line + 1}, "
            f"column {error.context_mark.column + 1})"
        )
    return text


def _read(source: Any) -> Any:
    if isinstance(source, Mapping):
        return copy.deepcopy(dict(source))
    if isinstance(source, os.PathLike) or (isinstance(source, str) and _looks_like_path(source)):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"Config file '{path}' not found.") from None
        except OSError as error:
            raise ConfigError(f"Config file '{path}' cannot be read: {error}") from None
        return parse_yaml(text, str(path))
    if isinstance(source, str):
        return parse_yaml(source)
    raise ConfigError(
        f"A config is YAML text, a file path, a mapping or a SoeConfig; got {type(source).__name__}."
    )


def _looks_like_path(text: str) -> bool:
    if "\n" in text or ":" in text.strip().split("/")[0]:
        return False
    return text.strip().endswith((".yaml", ".yml", ".json")) or os.path.isfile(text)


# -- the schema -----------------------------------------------------------------------


@functools.cache
def _schema() -> dict[str, Any]:
    text = resources.files("soe_temporal").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    return json.loads(text)


@functools.cache
def _validator(combined: bool = True) -> Draft202012Validator:
    schema = _schema()
    if combined:
        return Draft202012Validator(schema)
    return Draft202012Validator({"$ref": "#/$defs/legacy", "$defs": schema["$defs"]})


class _Problem:
    """A rule that failed: where it sits in SOE's rule order, and what to say."""

    order: tuple[Any, ...]
    text: str


@dataclass
class _Semantic(_Problem):
    order: tuple[Any, ...]
    text: str


class _Located(_Problem):
    """One jsonschema error, placed in SOE's rule order and phrased in SOE's words."""

    def __init__(self, error: ValidationError, document: Any, combined: bool) -> None:
        self.error = error
        self.path = list(error.absolute_path)
        self.combined = combined
        self.workflow: str | None = None
        self.node: str | None = None
        self.node_config: Any = None
        self.inner: list[Any] = []  # the path inside the node
        self.order = self._order(document)
        self.text = self.message()

    def _order(self, document: Any) -> tuple[Any, ...]:
        path = self.path
        if not isinstance(document, Mapping) or (not path and not self.combined):
            return (-1, self._rank())
        if self.combined:
            if not path:
                return (-1, self._rank())
            section = path[0]
            if section != "workflows":
                index = (
                    _COMBINED_SECTIONS.index(section) + 1 if section in _COMBINED_SECTIONS else 9
                )
                return (index, _position(document.get(section), path[1:2]), self._rank())
            workflows, rest = document.get("workflows"), path[1:]
        else:
            workflows, rest = document, path
        if not rest:
            return (0, -1, self._rank())
        self.workflow = rest[0]
        nodes = workflows.get(self.workflow) if isinstance(workflows, Mapping) else None
        if len(rest) == 1:
            if self.error.validator == "not" and isinstance(self.error.instance, str):
                return (0, _position(workflows, rest), _position(nodes, [self.error.instance]), -4)
            return (0, _position(workflows, rest), -1, self._rank())
        self.node = rest[1]
        self.inner = rest[2:]
        self.node_config = nodes.get(self.node) if isinstance(nodes, Mapping) else None
        return (
            0,
            _position(workflows, rest[:1]),
            _position(nodes, rest[1:2]),
            *self._node_rank(rest[2:]),
        )

    def _rank(self) -> float:
        return (
            self.error.schema.get("x-soe-rank", 50) if isinstance(self.error.schema, dict) else 50
        )

    def _type_schema(self) -> dict[str, Any]:
        node_type = (
            self.node_config.get("node_type") if isinstance(self.node_config, dict) else None
        )
        if node_type in NODE_TYPES:
            return _schema()["$defs"][f"{node_type}_node"]
        return _schema()["$defs"]["node"]

    def _node_rank(self, rest: list[Any]) -> tuple[float, int, float]:
        if self.error.validator == "required" and not rest:
            return (self._missing_schema().get("x-soe-rank", 50), -1, -1)
        if not rest:
            return (self._rank(), -1, -1)
        properties = self._type_schema().get("properties", {})
        property_schema = properties.get(rest[0]) or _schema()["$defs"]["node"]["properties"].get(
            rest[0], {}
        )
        rank = property_schema.get("x-soe-rank", 50)
        if len(rest) == 1:
            return (rank, -1, -1)
        item_index = rest[1] if isinstance(rest[1], int) else -1
        items = property_schema.get("items", {})
        sub_rank = items.get("x-soe-rank", 0)
        if len(rest) >= 3:
            sub_rank = items.get("properties", {}).get(rest[2], {}).get("x-soe-rank", 50)
        elif self.error.validator == "required":
            sub_rank = self._missing_schema().get("x-soe-rank", 50)
        return (rank, item_index, sub_rank)

    def _missing_key(self) -> str:
        """The key this error is about: jsonschema reports each missing key on its own."""
        instance = self.error.instance if isinstance(self.error.instance, dict) else {}
        missing = [key for key in self.error.validator_value if key not in instance]
        for key in missing:
            if self.error.message.startswith(f"{key!r} "):
                return key
        return missing[0] if missing else str(self.error.validator_value[0])

    def _near_miss(self) -> str | None:
        """A key of the mapping that misspells the missing one (``event_trigers``)."""
        instance = self.error.instance
        if not isinstance(instance, dict):
            return None
        if self.node is not None and not self.inner:  # the node itself
            known = node_keys(instance.get("node_type"))
        else:
            known = frozenset(self.error.schema.get("properties", {}))
        missing = self._missing_key()
        for key in instance:
            if key not in known and closest_key(key, known) == missing:
                return key
        return None

    def _missing_schema(self) -> dict[str, Any]:
        return self.error.schema.get("properties", {}).get(self._missing_key(), {})

    def message(self) -> str:
        error = self.error
        messages = error.schema.get("x-soe-messages", {}) if isinstance(error.schema, dict) else {}
        text = messages.get(error.validator)
        if error.validator == "required":
            text = self._missing_schema().get("x-soe-messages", {}).get("required")
        elif _empty(error.instance) and error.validator in ("type", "minItems", "minLength"):
            text = messages.get("required", text)
        if text is None:
            where = ".".join(str(p) for p in self.path[-2:]) or "config"
            text = f"'{where}': {error.message}"
        text = _fill(text, self._placeholders())
        near_miss = self._near_miss() if error.validator == "required" else None
        if near_miss is not None:
            text = f"{text}; did you mean '{self._missing_key()}' instead of '{near_miss}'?"
        if error.schema.get("x-soe-signal-names") and isinstance(
            error.instance, (bool, int, float)
        ):
            text = f"{text}. {_QUOTE}"
        if self.node is not None and not text.startswith("Workflow '"):
            return f"Workflow '{self.workflow}', node '{self.node}': {text}"
        return text

    def _placeholders(self) -> dict[str, str]:
        instance = self.error.instance
        indices = [p for p in self.path if isinstance(p, int)]
        last_key = next((p for p in reversed(self.path) if isinstance(p, str)), "")
        extra = ""
        if self.error.validator == "additionalProperties" and isinstance(instance, dict):
            known = self.error.schema.get("properties", {})
            extra = ", ".join(repr(k) for k in instance if k not in known)
        return {
            "{w}": str(self.workflow if self.workflow is not None else last_key),
            "{n}": str(self.node),
            "{i}": str(indices[-1] + 1) if indices else "?",
            "{j}": str(indices[-1]) if indices else "?",
            "{type}": _type_name(instance),
            "{value}": instance if isinstance(instance, str) else repr(instance),
            "{field}": str(last_key),
            "{key}": f"'{last_key}'",
            "{extra}": extra,
        }


def _empty(value: Any) -> bool:
    """SOE's "missing or empty": a false boolean is a wrong type, not an empty value."""
    return value is None or (isinstance(value, (str, list, dict)) and not value)


def _fill(text: str, values: dict[str, str]) -> str:
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text


def _position(mapping: Any, keys: list[Any]) -> int:
    if not keys or not isinstance(mapping, Mapping):
        return -1
    for index, key in enumerate(mapping):
        if key == keys[0]:
            return index
    return -1


def _type_name(value: Any) -> str:
    return type(value).__name__


# -- checks beside the schema ---------------------------------------------------------


def _semantic_problems(workflows: Mapping[str, Any], section: int) -> list[_Problem]:
    """The checks a schema cannot make, placed in the same order as schema errors."""
    problems: list[_Problem] = []
    for workflow_index, (workflow_name, nodes) in enumerate(workflows.items()):
        if not isinstance(nodes, Mapping):
            continue
        for node_index, (node_name, node) in enumerate(nodes.items()):
            if not isinstance(node, Mapping):
                continue
            for rank, text in _node_problems(node):
                problems.append(
                    _Semantic(
                        (section, workflow_index, node_index, *rank),
                        f"Workflow '{workflow_name}', node '{node_name}': {text}",
                    )
                )
    return problems


def _node_problems(node: Mapping[str, Any]) -> list[tuple[tuple[float, int, float], str]]:
    node_type = node.get("node_type")
    if node_type not in NODE_TYPES:
        return []
    properties = _schema()["$defs"][f"{node_type}_node"]["properties"]
    problems: list[tuple[tuple[float, int, float], str]] = []
    emissions = node.get("event_emissions")
    emissions_rank = properties["event_emissions"]["x-soe-rank"]
    for index, emission in enumerate(emissions if isinstance(emissions, list) else []):
        condition = emission.get("condition") if isinstance(emission, Mapping) else None
        if not isinstance(condition, str) or not has_jinja(condition):
            continue
        label = f"Event emission '{emission.get('signal_name')}' condition"
        problem = syntax_error(condition) if node_type == "router" else None  # F-VAL-11
        text = f"{label}: {problem}" if problem else _escape_problem(label, condition)
        if text:
            problems.append(((emissions_rank, index, 3.5), text))
    prompt = node.get("prompt")
    if node_type in ("llm", "agent") and isinstance(prompt, str):
        text = _escape_problem("'prompt'", prompt)
        if text:
            problems.append(((properties["prompt"]["x-soe-rank"], -1, 1), text))
    parameters = node.get("parameters")
    if isinstance(parameters, Mapping):
        for name, value in _strings(dict(parameters), "parameters"):
            text = _escape_problem(f"'{name}'", value)
            if text:
                problems.append(((properties["parameters"]["x-soe-rank"], -1, 1), text))
    text = temporal_options_problem(node.get("temporal"))
    if text:
        problems.append(((properties["temporal"]["x-soe-rank"], -1, 1), text))
    return problems


def _escape_problem(label: str, template: str) -> str | None:
    name = sandbox_escape(template)
    if name is None:
        return None
    return (
        f"{label} reaches for the Python internal '{name}', which templates may not use "
        "(they render in Jinja's sandbox). Templates can read context fields, e.g. "
        "{{ context.field }} or {{ context.__operational__.signals }}."
    )


def _strings(value: Any, where: str) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [pair for key, item in value.items() for pair in _strings(item, f"{where}.{key}")]
    if isinstance(value, list):
        return [
            pair for index, item in enumerate(value) for pair in _strings(item, f"{where}[{index}]")
        ]
    return [(where, value)] if isinstance(value, str) else []


def temporal_options_problem(options: Any) -> str | None:
    """Option combinations Temporal cannot honour (also used for tools registry entries)."""
    if not isinstance(options, dict) or not options.get("local"):
        return None
    if "task_queue" in options:
        return (
            "'temporal' sets both 'local: true' and 'task_queue': a local activity runs on the "
            "workflow's own worker. Remove one of them."
        )
    if "heartbeat_timeout" in options:
        return (
            "'temporal' sets both 'local: true' and 'heartbeat_timeout': local activities do not "
            "heartbeat. Remove 'heartbeat_timeout' or run the node as a normal activity."
        )
    return None
