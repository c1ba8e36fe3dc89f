"""SOE's built-in tools (SOE_SPEC §18, F-BI-1..22), as far as they run in the workflow.

They read or change the calling execution's own state, deterministically: its registry,
its context, and the tree's identities and context schema. They act on the *calling*
execution (our Q-10 fix: nothing is cached or bound to a first caller), identity and schema
tools on the tree's (our Q-30 fix). An injected workflow, node or signal is validated like
a config at start, and an invalid one changes nothing.

The built-ins that need I/O (listing executions, reading the packaged documentation,
copying context between executions) run in the tool activity instead.
"""

from __future__ import annotations

import copy
import inspect
import json
from collections.abc import Callable
from typing import Any

import yaml

from .context import is_internal_field, write_field
from .events import BuiltinApplied
from .host import NodeHost
from .operational import count_node
from .signatures import ToolDescription, describe_function

# F-BI-19: the order soe_get_available_tools reports.
BUILTIN_NAMES = [
    "soe_inject_workflow", "soe_inject_node", "soe_get_workflows", "soe_get_available_tools",
    "soe_explore_docs", "soe_remove_workflow", "soe_remove_node", "soe_get_context",
    "soe_update_context", "soe_copy_context", "soe_list_contexts", "soe_add_signal",
    "soe_call_tool", "soe_get_identities", "soe_inject_identity", "soe_remove_identity",
    "soe_get_context_schema", "soe_inject_context_schema_field",
    "soe_remove_context_schema_field",
]  # fmt: skip

# Built-ins the tool activity runs: they need I/O.
ACTIVITY_BUILTINS = ("soe_list_contexts", "soe_explore_docs")


class BuiltinError(ValueError):
    """A built-in refused its arguments: a tool failure for a tool node, a tool error for
    an agent (F-BI-1)."""


def _parse(data: Any, what: str) -> Any:
    """F-BI-3/4/17: a mapping as is, else JSON text, falling back to YAML."""
    if not isinstance(data, str):
        return data
    try:
        return json.loads(data)
    except json.JSONDecodeError:
        try:
            return yaml.safe_load(data)
        except yaml.YAMLError as error:
            raise BuiltinError(f"{what} is neither JSON nor YAML: {error}") from None


def _validate(host: NodeHost, workflows: dict[str, Any], refused: str) -> None:
    """The config's own rules (which the host hands in); a problem is the caller's error
    and changes nothing."""
    problem = host.workflows_problem(workflows)
    if problem:
        raise BuiltinError(f"{refused}, nothing was changed: {problem}")


def _registry_event(host: NodeHost, tool: str, **details: Any) -> None:
    host.record(BuiltinApplied(tool, details))


# -- workflows and nodes (on the calling execution) ---------------------------------------


def soe_get_workflows(
    host: NodeHost, workflow_name: str | None = None, list_only: bool = False
) -> dict[str, Any]:
    """List the workflows of this execution, or show one with its nodes."""
    registry = host.registry
    if list_only:
        return {"workflow_names": list(registry)}
    if workflow_name:
        if workflow_name not in registry:
            return {"error": f"Workflow '{workflow_name}' not found", "available": list(registry)}
        nodes = registry[workflow_name]
        return {
            "workflow_name": workflow_name,
            "nodes": list(nodes),
            "node_configs": copy.deepcopy(nodes),
        }
    return copy.deepcopy(registry)


def soe_inject_workflow(host: NodeHost, workflow_name: str, workflow_data: Any) -> dict[str, Any]:
    """Add (or replace) a workflow in this execution's registry. workflow_data is JSON or
    YAML: the workflow's nodes by name. It is checked like a config; an invalid one is
    refused and nothing changes."""
    data = _parse(workflow_data, "Workflow data")
    if not isinstance(data, dict):
        raise BuiltinError("Workflow data must be a dictionary/object")
    definition = _workflow_definition(data, workflow_name)
    if not definition:
        raise BuiltinError("No workflow definition found for injection")
    _validate(
        host, {workflow_name: definition}, f"soe_inject_workflow refused workflow '{workflow_name}'"
    )
    host.replace_registry({**host.registry, workflow_name: copy.deepcopy(definition)})
    _registry_event(host, tool="soe_inject_workflow", workflow_name=workflow_name)
    return {
        "injected": True,
        "workflow_name": workflow_name,
        "message": f"Successfully injected workflow '{workflow_name}'",
    }


def _workflow_definition(data: dict[str, Any], workflow_name: str) -> Any:
    """F-BI-3: the nodes under the workflow's own name, the mapping itself when it is
    nodes, the value of its single key, or else the mapping as given."""
    if workflow_name in data:
        return data[workflow_name]
    if data and all(isinstance(v, dict) and "node_type" in v for v in data.values()):
        return data
    only = next(iter(data.values())) if len(data) == 1 else None
    # Unwrapping a single node (not a workflow of nodes) would only blame the wrong thing.
    if isinstance(only, dict) and all(isinstance(v, dict) for v in only.values()):
        return only
    return data


def soe_inject_node(
    host: NodeHost, workflow_name: str, node_name: str, node_config_data: Any
) -> dict[str, Any]:
    """Add a node at the end of a workflow, or replace it where it stands. node_config_data
    is JSON or YAML."""
    registry = host.registry
    if workflow_name not in registry:
        raise BuiltinError(f"Workflow '{workflow_name}' not found in workflows registry")
    node = _parse(node_config_data, "Node configuration")
    if not isinstance(node, dict):
        raise BuiltinError("Node configuration must be a dictionary/object")
    workflow = {**registry[workflow_name], node_name: copy.deepcopy(node)}
    _validate(host, {workflow_name: workflow}, f"soe_inject_node refused node '{node_name}'")
    host.replace_registry({**registry, workflow_name: workflow})
    count_node(host.context, node_name)  # Q-14 (kept): counts the target node
    _registry_event(host, tool="soe_inject_node", workflow_name=workflow_name, node_name=node_name)
    return {
        "injected": True,
        "workflow_name": workflow_name,
        "node_name": node_name,
        "message": f"Successfully injected node '{node_name}' into workflow '{workflow_name}'",
    }


def soe_remove_workflow(host: NodeHost, workflow_name: str) -> dict[str, Any]:
    """Remove a workflow from this execution's registry."""
    registry = host.registry
    if workflow_name not in registry:
        raise BuiltinError(f"Workflow '{workflow_name}' not found in workflows registry")
    host.replace_registry({k: v for k, v in registry.items() if k != workflow_name})
    _registry_event(host, tool="soe_remove_workflow", workflow_name=workflow_name)
    return {
        "removed": True,
        "workflow_name": workflow_name,
        "message": f"Successfully removed workflow '{workflow_name}'",
    }


def soe_remove_node(host: NodeHost, workflow_name: str, node_name: str) -> dict[str, Any]:
    """Remove a node from a workflow of this execution's registry."""
    registry = host.registry
    if workflow_name not in registry:
        raise BuiltinError(f"Workflow '{workflow_name}' not found in workflows registry")
    if node_name not in registry[workflow_name]:
        raise BuiltinError(f"Node '{node_name}' not found in workflow '{workflow_name}'")
    workflow = {k: v for k, v in registry[workflow_name].items() if k != node_name}
    host.replace_registry({**registry, workflow_name: workflow})
    count_node(host.context, node_name)  # Q-14 (kept)
    _registry_event(host, tool="soe_remove_node", workflow_name=workflow_name, node_name=node_name)
    return {
        "removed": True,
        "workflow_name": workflow_name,
        "node_name": node_name,
        "message": f"Successfully removed node '{node_name}' from workflow '{workflow_name}'",
    }


def soe_add_signal(
    host: NodeHost, workflow_name: str, node_name: str, signal_name: str, condition: str
) -> dict[str, Any]:
    """Add a signal to a node's event_emissions, or change the condition of one it has."""
    registry = host.registry
    if workflow_name not in registry:
        raise BuiltinError(f"Workflow '{workflow_name}' not found")
    if node_name not in registry[workflow_name]:
        raise BuiltinError(f"Node '{node_name}' not found in workflow '{workflow_name}'")
    node = copy.deepcopy(registry[workflow_name][node_name])
    emissions = node["event_emissions"] = node.get("event_emissions") or []
    existing = next((e for e in emissions if e.get("signal_name") == signal_name), None)
    if existing is not None:
        existing["condition"] = condition
    else:
        emissions.append({"signal_name": signal_name, "condition": condition})
    workflow = {**registry[workflow_name], node_name: node}
    _validate(host, {workflow_name: workflow}, f"soe_add_signal refused signal '{signal_name}'")
    host.replace_registry({**registry, workflow_name: workflow})
    if existing is not None:
        return {
            "status": "updated",
            "message": f"Updated signal '{signal_name}' in node '{node_name}'",
        }
    count_node(host.context, node_name)  # Q-14 (kept)
    _registry_event(
        host,
        tool="add_signal",
        workflow_name=workflow_name,
        node_name=node_name,
        signal=signal_name,
    )
    return {"status": "added", "message": f"Added signal '{signal_name}' to node '{node_name}'"}


# -- context (on the calling execution) ---------------------------------------------------


def soe_get_context(
    host: NodeHost, field: str | None = None, fields: list[str] | None = None
) -> dict[str, Any]:
    """This execution's context fields, as their whole histories (internal fields hidden)."""
    context = {k: v for k, v in host.context.items() if not is_internal_field(k)}
    if field:
        return {field: copy.deepcopy(context.get(field))}
    if fields:
        return {name: copy.deepcopy(context.get(name)) for name in fields}
    return copy.deepcopy(context)


def soe_update_context(host: NodeHost, updates: dict[str, Any] | None) -> dict[str, Any]:
    """Append each value to its field's history (fields starting with __ are refused)."""
    if not updates:
        return {"status": "no updates provided"}
    if not isinstance(updates, dict):
        raise BuiltinError(
            f"'updates' must map field names to values, got {type(updates).__name__}"
        )
    valid = {k: v for k, v in updates.items() if not is_internal_field(k)}
    if not valid:
        return {"status": "no valid updates (operational fields cannot be updated)"}
    for name, value in valid.items():
        write_field(host.context, name, copy.deepcopy(value))
    return {"status": "updated", "fields": list(valid)}


def soe_copy_context(
    host: NodeHost,
    source_execution_id: str | None = None,
    fields: dict[str, str] | None = None,
    all_fields: bool = False,
    target_execution_id: str | None = None,
) -> dict[str, Any]:
    """Copy whole field histories between executions (both default to this one): fields
    maps source field names to target names, or all_fields copies every field."""
    me = host.execution_id
    copied, result = plan_copy(
        host.context,
        source_execution_id or me,
        target_execution_id or me,
        fields,
        all_fields,
    )
    host.replace_fields(copied)
    return result


def plan_copy(
    source_context: dict[str, Any],
    source: str,
    target: str,
    fields: dict[str, str] | None,
    all_fields: bool,
) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    """F-BI-14: the histories to put in the target (by target name) and the tool's result;
    an error result copies nothing (Q-35, value semantics)."""
    histories = {k: v for k, v in source_context.items() if not is_internal_field(k)}
    if all_fields:
        mapping = {name: name for name in histories}
    elif fields:
        if not isinstance(fields, dict):
            raise BuiltinError("'fields' must map source field names to target field names")
        mapping = dict(fields)
        for name in mapping:
            if name not in histories:
                return {}, {"error": f"Source field '{name}' not found in execution {source}"}
    else:
        return {}, {"error": "Must specify either 'fields' mapping or 'all_fields=True'"}
    copied = {mapping[name]: copy.deepcopy(histories[name]) for name in mapping}
    return copied, {
        "status": "copied",
        "source_execution": source,
        "target_execution": target,
        "fields_copied": mapping,
    }


def context_summary(context: dict[str, Any]) -> dict[str, Any]:
    """F-BI-15: what soe_list_contexts shows of one execution's context."""
    operational = context.get("__operational__") or {}
    requests = context.get("user_request")
    return {
        "user_request": requests[-1] if isinstance(requests, list) and requests else None,
        "signals": list(operational.get("signals") or [])[-5:],
        "node_count": sum((operational.get("nodes") or {}).values()),
    }


# -- identities and context schema (the tree's, Q-30 fix) -----------------------------------


def soe_get_identities(
    host: NodeHost, identity_name: str | None = None, list_only: bool = False
) -> dict[str, Any]:
    """The identities (system prompts) of this execution tree."""
    identities = host.identities
    if list_only:
        return {"identity_names": list(identities)}
    if identity_name:
        if identity_name not in identities:
            return {"error": f"Identity '{identity_name}' not found", "available": list(identities)}
        return {"identity_name": identity_name, "system_prompt": identities[identity_name]}
    return dict(identities)


def soe_inject_identity(host: NodeHost, identity_name: str, system_prompt: str) -> dict[str, Any]:
    """Add or change an identity of this execution tree."""
    if not isinstance(system_prompt, str):
        raise BuiltinError(
            f"Identity '{identity_name}': 'system_prompt' must be text, "
            f"got {type(system_prompt).__name__}"
        )
    action = "updated" if identity_name in host.identities else "created"
    host.change_tree_config(identities={identity_name: system_prompt})
    _registry_event(host, tool="soe_inject_identity", identity_name=identity_name, action=action)
    return {
        "success": True,
        "identity_name": identity_name,
        "action": action,
        "message": f"Successfully {action} identity '{identity_name}'",
    }


def soe_remove_identity(host: NodeHost, identity_name: str) -> dict[str, Any]:
    """Remove an identity of this execution tree."""
    if identity_name not in host.identities:
        raise BuiltinError(f"Identity '{identity_name}' not found")
    host.change_tree_config(identities={identity_name: None})
    _registry_event(host, tool="soe_remove_identity", identity_name=identity_name)
    return {
        "removed": True,
        "identity_name": identity_name,
        "message": f"Successfully removed identity '{identity_name}'",
    }


def soe_get_context_schema(host: NodeHost, field_name: str | None = None) -> dict[str, Any]:
    """The context schema of this execution tree, or one field's definition."""
    schema = host.context_schema
    if field_name:
        if field_name not in schema:
            return {
                "error": f"Field '{field_name}' not found in context schema",
                "available": list(schema),
            }
        return {"field_name": field_name, "definition": copy.deepcopy(schema[field_name])}
    return copy.deepcopy(schema)


def soe_inject_context_schema_field(
    host: NodeHost, field_name: str, field_definition: Any
) -> dict[str, Any]:
    """Add or change a context schema field. field_definition is JSON or YAML."""
    definition = _parse(field_definition, "Field definition")
    if not isinstance(definition, dict):
        raise BuiltinError("Field definition must be a dictionary/object")
    action = "updated" if field_name in host.context_schema else "created"
    host.change_tree_config(context_schema={field_name: definition})
    _registry_event(
        host, tool="soe_inject_context_schema_field", field_name=field_name, action=action
    )
    return {
        "success": True,
        "field_name": field_name,
        "action": action,
        "message": f"Successfully {action} field '{field_name}' in context schema",
    }


def soe_remove_context_schema_field(host: NodeHost, field_name: str) -> dict[str, Any]:
    """Remove a context schema field."""
    if field_name not in host.context_schema:
        raise BuiltinError(f"Field '{field_name}' not found in context schema")
    host.change_tree_config(context_schema={field_name: None})
    _registry_event(host, tool="soe_remove_context_schema_field", field_name=field_name)
    return {
        "removed": True,
        "field_name": field_name,
        "message": f"Successfully removed field '{field_name}' from context schema",
    }


# -- tools ------------------------------------------------------------------------------


def soe_get_available_tools(host: NodeHost) -> dict[str, Any]:
    """The built-in tools, and the tools of this worker's registry."""
    return {"builtin_tools": list(BUILTIN_NAMES), "user_tools": list(host.tools)}


def soe_call_tool(host: NodeHost, tool_name: str, arguments: str = "{}") -> dict[str, Any]:
    """Call a tool of the registry by name; arguments is a JSON object as text."""
    raise AssertionError(
        "soe_call_tool is carried out by the engine's call path"
    )  # pragma: no cover


def soe_list_contexts(host: NodeHost, include_current: bool = True) -> dict[str, Any]:
    """List the executions of this namespace: id, latest user_request, last signals."""
    raise AssertionError("runs in the tool activity")  # pragma: no cover


def soe_explore_docs(
    host: NodeHost, path: str, action: str, query: str | None = None, tag: str | None = None
) -> str:
    """Explore the soe_temporal documentation: action is list, read, tree, search (with
    query or tag) or get_tags; path '/' is the docs root, e.g. docs/nodes.md."""
    raise AssertionError("runs in the tool activity")  # pragma: no cover


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    function.__name__: function
    for function in (
        soe_get_workflows, soe_inject_workflow, soe_inject_node, soe_remove_workflow,
        soe_remove_node, soe_add_signal, soe_get_context, soe_update_context,
        soe_copy_context, soe_get_identities, soe_inject_identity, soe_remove_identity,
        soe_get_context_schema, soe_inject_context_schema_field,
        soe_remove_context_schema_field, soe_get_available_tools, soe_call_tool,
        soe_list_contexts, soe_explore_docs,
    )
}  # fmt: skip


def is_builtin(name: str) -> bool:
    return name in _FUNCTIONS


def runs_in_workflow(name: str, arguments: dict[str, Any], execution_id: str) -> bool:
    """Whether this call of a built-in runs here (else in the tool activity)."""
    if name in ACTIVITY_BUILTINS:
        return False
    if name == "soe_copy_context":
        ends = (arguments.get("source_execution_id"), arguments.get("target_execution_id"))
        return all(end in (None, "", execution_id) for end in ends)
    return True


def check_arguments(name: str, arguments: dict[str, Any]) -> None:
    """A TypeError naming the built-in when ``arguments`` do not fit its parameters."""
    try:
        inspect.signature(_FUNCTIONS[name]).bind(None, **arguments)
    except TypeError as error:
        raise TypeError(f"{name}(): {error}") from None


def call_builtin(host: NodeHost, name: str, arguments: dict[str, Any]) -> Any:
    """Run an in-workflow built-in; a TypeError means the arguments do not fit it."""
    return _FUNCTIONS[name](host, **arguments)


def describe_builtin(name: str) -> ToolDescription:
    """How an agent sees a built-in: under the name it calls it by (our Q-12 fix)."""
    return describe_function(_FUNCTIONS[name], name, skip=("host",))
