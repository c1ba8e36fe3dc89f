"""Built-in tools on the pure engine (SOE_SPEC §18, F-BI-1..22), called by tool nodes and
by agents, with our fixes: Q-10 (a built-in acts on the calling execution), Q-12 (agents
see the name they call), Q-30 (identity and schema built-ins change the tree's, held by the
main execution), and validation of what is injected (over D-16)."""

from __future__ import annotations

import json
from typing import Any

from soe_temporal.engine import Execution, ToolOutcome
from soe_temporal.engine.builtins import BUILTIN_NAMES, describe_builtin
from soe_temporal.engine.commands import (
    CallLlm,
    CallTool,
    MessageToParent,
    TellParent,
    TreeConfigChange,
)

from .helpers import ScriptedHost, ops, run, start, taken_events
from .test_agent import decide, document, facts_of, only, reply


def builtin_node(tool_name: str, trigger: str = "GO", **config: Any) -> dict[str, Any]:
    return {
        "node_type": "tool",
        "event_triggers": [trigger],
        "tool_name": tool_name,
        "output_field": "out",
        **config,
    }


def refuse_nodes_named_bad(workflows: dict[str, Any]) -> str | None:
    """A scripted stand-in for the config's rules (which live above the engine)."""
    for workflow_name, nodes in workflows.items():
        if "Bad" in nodes:
            return f"Workflow '{workflow_name}', node 'Bad': refused by the config's rules"
    return None


def call(tool_name: str, parameters: dict[str, Any] | None = None, **more: Any) -> Execution:
    """Run workflow ``wf`` whose node ``B`` calls ``tool_name`` with ``parameters``."""
    registry = {"wf": {"B": builtin_node(tool_name, parameters=parameters or {}), **more}}
    execution = start(registry, ["GO"], {"x": 1}, workflows_problem=refuse_nodes_named_bad)
    assert run(execution) == []  # ran in the workflow: no host call
    return execution


def out(execution: Execution) -> Any:
    return execution.context["out"][-1]


def failure_of(execution: Execution) -> str:
    [failed] = execution.state.failures
    return failed.error


ROUTER = {
    "node_type": "router",
    "event_triggers": ["GO"],
    "event_emissions": [{"signal_name": "A"}],
}


# == F-BI-1: resolution and failures ===================================================


def test_f_bi_1_builtin_runs_in_the_execution_without_a_host_call():
    execution = call("soe_get_context", {"field": "x"})
    assert out(execution) == {"x": [1]}
    assert ops(execution)["tool_calls"] == 1


def test_f_tool_3_registry_tool_of_the_same_name_wins():
    registry = {"wf": {"B": builtin_node("soe_get_context")}}
    execution = start(registry, ["GO"])
    execution.learn_tools(facts_of({"soe_get_context": lambda: "mine"}))
    [command] = execution.process_pending()
    assert isinstance(command, CallTool) and command.tool_name == "soe_get_context"


def test_f_bi_1_builtin_error_is_the_tool_nodes_failure_without_retries():
    execution = call("soe_remove_workflow", {"workflow_name": "ghost"})
    assert out(execution) == "Workflow 'ghost' not found in workflows registry"
    assert failure_of(execution) == out(execution)
    assert ops(execution)["errors"] == 1


def test_f_bi_1_unexpected_argument_is_a_tool_failure():
    execution = call("soe_get_context", {"nope": 1})
    assert "unexpected keyword argument 'nope'" in out(execution)


def test_f_tool_6_builtin_reads_its_arguments_from_a_parameter_field():
    registry = {"wf": {"B": builtin_node("soe_get_context", context_parameter_field="args")}}
    execution = start(registry, ["GO"], {"x": 1, "args": '{"field": "x"}'})
    run(execution)
    assert out(execution) == {"x": [1]}


def test_f_tool_6_unreadable_parameter_field_is_a_setup_failure():
    registry = {"wf": {"B": builtin_node("soe_get_context", context_parameter_field="args")}}
    execution = start(registry, ["GO"], {"args": "{unclosed: ["})
    run(execution)
    [failed] = execution.state.failures
    assert "not valid JSON/YAML" in failed.error and failed.handled is False


def test_f_tool_7_builtin_result_drives_conditions():
    node = builtin_node(
        "soe_update_context",
        parameters={"updates": {"y": 2}},
        event_emissions=[{"signal_name": "DONE", "condition": "{{ result.status == 'updated' }}"}],
    )
    execution = start({"wf": {"B": node}}, ["GO"])
    run(execution)
    assert ops(execution)["signals"] == ["GO", "DONE"]


# == F-BI-5 soe_get_workflows ==========================================================


def test_f_bi_5_list_only():
    assert out(call("soe_get_workflows", {"list_only": True})) == {"workflow_names": ["wf"]}


def test_f_bi_5_one_workflow_with_its_nodes():
    shown = out(call("soe_get_workflows", {"workflow_name": "wf"}, R=ROUTER))
    assert shown["workflow_name"] == "wf"
    assert shown["nodes"] == ["B", "R"]
    assert shown["node_configs"]["R"] == ROUTER


def test_f_bi_5_missing_workflow_is_an_error_result():
    shown = out(call("soe_get_workflows", {"workflow_name": "nope"}))
    assert shown == {"error": "Workflow 'nope' not found", "available": ["wf"]}


def test_f_bi_5_whole_registry():
    execution = call("soe_get_workflows", R=ROUTER)
    assert out(execution) == execution.state.registry
    assert list(out(execution)["wf"]) == ["B", "R"]


# == F-BI-3 soe_inject_workflow ========================================================

NEW_WORKFLOW_YAML = """
Start:
  node_type: router
  event_triggers: [BEGIN]
  event_emissions:
    - signal_name: DONE
"""


def test_f_bi_3_injects_a_workflow_from_yaml():
    execution = call(
        "soe_inject_workflow", {"workflow_name": "new", "workflow_data": NEW_WORKFLOW_YAML}
    )
    assert out(execution) == {
        "injected": True,
        "workflow_name": "new",
        "message": "Successfully injected workflow 'new'",
    }
    assert execution.state.registry["new"]["Start"]["event_triggers"] == ["BEGIN"]


def test_f_bi_3_injects_a_workflow_from_json_and_a_mapping():
    nodes = {"Start": ROUTER}
    for data in (json.dumps(nodes), nodes):
        execution = call("soe_inject_workflow", {"workflow_name": "new", "workflow_data": data})
        assert execution.state.registry["new"] == nodes


def test_f_bi_3_definition_under_the_injected_workflows_own_name():
    data = {"new": {"Start": ROUTER}, "other": {"S": ROUTER}}
    execution = call("soe_inject_workflow", {"workflow_name": "new", "workflow_data": data})
    assert execution.state.registry["new"] == {"Start": ROUTER}


def test_f_bi_3_definition_under_a_single_key():
    data = {"anything": {"Start": ROUTER}}
    execution = call("soe_inject_workflow", {"workflow_name": "new", "workflow_data": data})
    assert execution.state.registry["new"] == {"Start": ROUTER}


def test_d_16_an_injected_workflow_the_config_rules_refuse_changes_nothing():
    """The config's rules are handed to the engine; what they refuse is the tool's error,
    prefixed with the refusing built-in, and the registry stays as it was."""
    data = {"Bad": ROUTER}
    execution = call("soe_inject_workflow", {"workflow_name": "new", "workflow_data": data})
    assert out(execution) == (
        "soe_inject_workflow refused workflow 'new', nothing was changed: "
        "Workflow 'new', node 'Bad': refused by the config's rules"
    )
    assert list(execution.state.registry) == ["wf"]


def test_d_16_an_injected_node_the_config_rules_refuse_changes_nothing():
    execution = call(
        "soe_inject_node", {"workflow_name": "wf", "node_name": "Bad", "node_config_data": ROUTER}
    )
    assert out(execution).startswith("soe_inject_node refused node 'Bad', nothing was changed: ")
    assert list(execution.state.registry["wf"]) == ["B"]
    assert "Bad" not in ops(execution)["nodes"]


def test_d_16_a_signal_added_to_a_node_the_config_rules_refuse_changes_nothing():
    execution = call(
        "soe_add_signal",
        {"workflow_name": "wf", "node_name": "Bad", "signal_name": "S", "condition": ""},
        Bad=ROUTER,
    )
    assert out(execution).startswith("soe_add_signal refused signal 'S', nothing was changed: ")
    assert execution.state.registry["wf"]["Bad"] == ROUTER


def test_f_bi_3_non_mapping_is_refused():
    execution = call("soe_inject_workflow", {"workflow_name": "new", "workflow_data": "[1, 2]"})
    assert out(execution) == "Workflow data must be a dictionary/object"
    assert "new" not in execution.state.registry


def test_f_bi_3_empty_definition_is_refused():
    execution = call("soe_inject_workflow", {"workflow_name": "new", "workflow_data": "{}"})
    assert out(execution) == "No workflow definition found for injection"


def test_f_bi_3_injection_is_logged_without_counting_a_node():
    execution = call(
        "soe_inject_workflow", {"workflow_name": "new", "workflow_data": NEW_WORKFLOW_YAML}
    )
    logged = [e for e in taken_events(execution) if e.get("tool") == "soe_inject_workflow"]
    assert logged == [
        {"event_type": "node_execution", "tool": "soe_inject_workflow", "workflow_name": "new"}
    ]
    assert "new" not in ops(execution)["nodes"]


# == F-BI-4 soe_inject_node ============================================================


def test_f_bi_4_appends_a_new_node_and_counts_it():
    execution = call(
        "soe_inject_node",
        {"workflow_name": "wf", "node_name": "R2", "node_config_data": json.dumps(ROUTER)},
        R=ROUTER,
    )
    assert out(execution)["message"] == "Successfully injected node 'R2' into workflow 'wf'"
    assert list(execution.state.registry["wf"]) == ["B", "R", "R2"]
    assert ops(execution)["nodes"]["R2"] == 1  # Q-14 (kept)


def test_f_bi_4_replaces_a_node_where_it_stands():
    replaced = {**ROUTER, "event_emissions": [{"signal_name": "Z"}]}
    execution = call(
        "soe_inject_node",
        {"workflow_name": "wf", "node_name": "R", "node_config_data": replaced},
        R=ROUTER,
        S={**ROUTER, "event_triggers": ["NEVER"]},
    )
    assert list(execution.state.registry["wf"]) == ["B", "R", "S"]
    assert execution.state.registry["wf"]["R"] == replaced


def test_f_bi_4_unknown_workflow_is_an_error():
    execution = call(
        "soe_inject_node", {"workflow_name": "nope", "node_name": "N", "node_config_data": ROUTER}
    )
    assert out(execution) == "Workflow 'nope' not found in workflows registry"


def test_f_bi_4_node_config_must_be_a_mapping():
    execution = call(
        "soe_inject_node", {"workflow_name": "wf", "node_name": "N", "node_config_data": "- 1"}
    )
    assert out(execution) == "Node configuration must be a dictionary/object"


def test_f_bi_22_injected_node_fires_on_the_next_broadcast_not_the_current_one():
    # B injects R2, triggered by GO; the broadcast of GO that runs B does not reach it.
    node = {"workflow_name": "wf", "node_name": "R2", "node_config_data": ROUTER}
    execution = call("soe_inject_node", node)
    assert ops(execution)["signals"] == ["GO"]
    execution.deliver(["GO"])
    run(execution)
    assert ops(execution)["signals"] == ["GO", "GO", "A"]


# == F-BI-6 / F-BI-7 removing ==========================================================


def test_f_bi_6_removes_a_workflow():
    execution = start({"wf": {"B": builtin_node("soe_remove_workflow")}, "old": {"R": ROUTER}},
                      ["GO"])  # fmt: skip
    execution.state.registry["wf"]["B"]["parameters"] = {"workflow_name": "old"}
    run(execution)
    assert out(execution)["message"] == "Successfully removed workflow 'old'"
    assert list(execution.state.registry) == ["wf"]


def test_f_bi_7_removes_a_node_and_counts_it():
    execution = call("soe_remove_node", {"workflow_name": "wf", "node_name": "R"}, R=ROUTER)
    assert out(execution)["removed"] is True
    assert list(execution.state.registry["wf"]) == ["B"]
    # R ran in this broadcast (its registry snapshot, F-EXEC-6), and the removal counts it.
    assert ops(execution)["nodes"]["R"] == 2  # Q-14 (kept)


def test_f_bi_7_missing_node_is_an_error():
    execution = call("soe_remove_node", {"workflow_name": "wf", "node_name": "ghost"})
    assert out(execution) == "Node 'ghost' not found in workflow 'wf'"


# == F-BI-8 soe_add_signal =============================================================


def test_f_bi_8_adds_a_signal_and_counts_the_node():
    execution = call(
        "soe_add_signal",
        {"workflow_name": "wf", "node_name": "R", "signal_name": "NEW", "condition": "always"},
        R=ROUTER,
    )
    assert out(execution) == {"status": "added", "message": "Added signal 'NEW' to node 'R'"}
    assert execution.state.registry["wf"]["R"]["event_emissions"][-1] == {
        "signal_name": "NEW",
        "condition": "always",
    }
    assert ops(execution)["nodes"]["R"] == 2  # it ran once, and the event counts it (Q-14)


def test_f_bi_8_changes_the_condition_of_an_existing_signal_without_counting():
    # F-TOOL-5 renders inline parameters: a Jinja condition passes through {% raw %}.
    raw = "{% raw %}{{ false }}{% endraw %}"
    execution = call(
        "soe_add_signal",
        {"workflow_name": "wf", "node_name": "R", "signal_name": "A", "condition": raw},
        R=ROUTER,
    )
    assert out(execution) == {"status": "updated", "message": "Updated signal 'A' in node 'R'"}
    assert execution.state.registry["wf"]["R"]["event_emissions"] == [
        {"signal_name": "A", "condition": "{{ false }}"}
    ]
    assert ops(execution)["nodes"]["R"] == 1


def test_f_bi_8_creates_event_emissions_when_absent():
    bare = {"node_type": "router", "event_triggers": ["NEVER"]}
    execution = call(
        "soe_add_signal",
        {"workflow_name": "wf", "node_name": "R", "signal_name": "S", "condition": ""},
        R=bare,
    )
    assert execution.state.registry["wf"]["R"]["event_emissions"] == [
        {"signal_name": "S", "condition": ""}
    ]


def test_f_bi_12_get_context_returns_histories_and_hides_internal_fields():
    execution = call("soe_get_context")
    shown = out(execution)
    assert shown == {"x": [1]}


def test_f_bi_12_get_context_fields():
    assert out(call("soe_get_context", {"fields": ["x", "ghost"]})) == {"x": [1], "ghost": None}


def test_f_bi_13_update_context_appends_to_histories():
    execution = call("soe_update_context", {"updates": {"x": 2, "__operational__": {}}})
    assert out(execution) == {"status": "updated", "fields": ["x"]}
    assert execution.context["x"] == [1, 2]


def test_f_bi_13_update_context_without_valid_updates():
    assert out(call("soe_update_context", {"updates": {}})) == {"status": "no updates provided"}
    assert out(call("soe_update_context", {"updates": {"__x": 1}})) == {
        "status": "no valid updates (operational fields cannot be updated)"
    }


def test_f_bi_14_copy_fields_replaces_whole_histories():
    execution = call("soe_copy_context", {"fields": {"x": "y"}})
    assert out(execution) == {
        "status": "copied",
        "source_execution": "exec-1",
        "target_execution": "exec-1",
        "fields_copied": {"x": "y"},
    }
    assert execution.context["y"] == [1]


def test_f_bi_14_copy_all_fields():
    execution = call("soe_copy_context", {"all_fields": True, "target_execution_id": "exec-1"})
    assert out(execution) == {
        "status": "copied",
        "source_execution": "exec-1",
        "target_execution": "exec-1",
        "fields_copied": {"x": "x"},
    }
    assert execution.context["x"] == [1]


def test_q_35_missing_source_field_copies_nothing():
    execution = call("soe_copy_context", {"fields": {"x": "y", "ghost": "z"}})
    assert out(execution) == {"error": "Source field 'ghost' not found in execution exec-1"}
    assert "y" not in execution.context


def test_f_bi_14_copy_needs_fields_or_all_fields():
    assert out(call("soe_copy_context")) == {
        "error": "Must specify either 'fields' mapping or 'all_fields=True'"
    }


def test_f_bi_14_copy_from_another_execution_runs_in_the_activity():
    registry = {"wf": {"B": builtin_node("soe_copy_context", parameters={
        "source_execution_id": "other", "all_fields": True})}}  # fmt: skip
    [command] = start(registry, ["GO"]).process_pending()
    assert isinstance(command, CallTool) and command.tool_name == "soe_copy_context"


def test_f_bi_14_histories_copied_in_replace_fields():
    execution = start({"wf": {}}, ["GO"], {"x": 1})
    execution.replace_fields({"x": [7, 8], "__operational__": []})
    assert execution.context["x"] == [7, 8]
    assert isinstance(execution.context["__operational__"], dict)


# == F-BI-15 / F-BI-2: the I/O built-ins ==============================================


def test_f_bi_15_and_f_bi_2_io_builtins_are_host_calls():
    for name, parameters in (
        ("soe_list_contexts", {}),
        ("soe_explore_docs", {"path": "/", "action": "list"}),
    ):
        registry = {"wf": {"B": builtin_node(name, parameters=parameters)}}
        [command] = start(registry, ["GO"]).process_pending()
        assert command.tool_name == name and command.parameters == parameters


# == F-BI-9..11, 16..18: identities and context schema (Q-30 fix) =====================


def identity_call(tool_name: str, parameters: dict[str, Any], **kwargs: Any) -> Execution:
    registry = {"wf": {"B": builtin_node(tool_name, parameters=parameters)}}
    execution = start(registry, ["GO"], **kwargs)
    run(execution)
    return execution


def test_f_bi_9_get_identities():
    identities = {"helper": "You help."}
    assert out(identity_call("soe_get_identities", {}, identities=identities)) == identities
    assert out(identity_call("soe_get_identities", {"list_only": True}, identities=identities)) == {
        "identity_names": ["helper"]
    }
    assert out(
        identity_call("soe_get_identities", {"identity_name": "helper"}, identities=identities)
    ) == {"identity_name": "helper", "system_prompt": "You help."}
    assert out(identity_call("soe_get_identities", {"identity_name": "x"})) == {
        "error": "Identity 'x' not found",
        "available": [],
    }


def test_f_bi_10_inject_identity_creates_then_updates():
    execution = identity_call(
        "soe_inject_identity", {"identity_name": "helper", "system_prompt": "Be brief."}
    )
    assert out(execution)["action"] == "created"
    assert execution.state.identities == {"helper": "Be brief."}
    again = identity_call(
        "soe_inject_identity",
        {"identity_name": "helper", "system_prompt": "Be kind."},
        identities={"helper": "Be brief."},
    )
    assert out(again)["message"] == "Successfully updated identity 'helper'"


def test_f_bi_10_an_identity_injected_into_one_execution_stays_in_it():
    """Executions started without identities or a schema share their empty ones (a worker
    caches thousands): injecting into one changes nothing in another."""
    bystander = identity_call("soe_get_identities", {})
    identity_call("soe_inject_identity", {"identity_name": "helper", "system_prompt": "Hi."})
    identity_call(
        "soe_inject_context_schema_field",
        {"field_name": "summary", "field_definition": {"type": "string"}},
    )
    assert bystander.state.identities == {} and bystander.state.context_schema == {}
    assert out(identity_call("soe_get_identities", {})) == {}


def test_f_bi_11_remove_identity():
    execution = identity_call(
        "soe_remove_identity", {"identity_name": "helper"}, identities={"helper": "x"}
    )
    assert out(execution)["removed"] is True and execution.state.identities == {}
    missing = identity_call("soe_remove_identity", {"identity_name": "helper"})
    assert out(missing) == "Identity 'helper' not found"


def test_f_bi_16_get_context_schema():
    schema = {"summary": {"type": "string"}}
    assert out(identity_call("soe_get_context_schema", {}, context_schema=schema)) == schema
    assert out(
        identity_call("soe_get_context_schema", {"field_name": "summary"}, context_schema=schema)
    ) == {"field_name": "summary", "definition": {"type": "string"}}


def test_f_bi_17_inject_context_schema_field_from_yaml():
    execution = identity_call(
        "soe_inject_context_schema_field",
        {"field_name": "score", "field_definition": "type: integer\ndescription: 0-10"},
    )
    assert out(execution)["action"] == "created"
    assert execution.state.context_schema == {"score": {"type": "integer", "description": "0-10"}}


def test_f_bi_18_remove_context_schema_field():
    execution = identity_call(
        "soe_remove_context_schema_field",
        {"field_name": "score"},
        context_schema={"score": {"type": "integer"}},
    )
    assert execution.state.context_schema == {}
    missing = identity_call("soe_remove_context_schema_field", {"field_name": "score"})
    assert out(missing) == "Field 'score' not found in context schema"


def test_f_bi_10_system_prompt_must_be_text():
    execution = identity_call(
        "soe_inject_identity", {"identity_name": "helper", "system_prompt": None}
    )
    assert out(execution) == "Identity 'helper': 'system_prompt' must be text, got NoneType"
    assert execution.state.identities == {}


def test_f_bi_16_missing_field_is_an_error_result():
    schema = {"summary": {"type": "string"}}
    shown = out(identity_call("soe_get_context_schema", {"field_name": "x"}, context_schema=schema))
    assert shown == {"error": "Field 'x' not found in context schema", "available": ["summary"]}


def test_f_bi_17_updates_an_existing_field_and_refuses_a_non_mapping():
    schema = {"score": {"type": "integer"}}
    execution = identity_call(
        "soe_inject_context_schema_field",
        {"field_name": "score", "field_definition": '{"type": "number"}'},
        context_schema=schema,
    )
    assert out(execution)["message"] == "Successfully updated field 'score' in context schema"
    assert execution.state.context_schema == {"score": {"type": "number"}}
    refused = identity_call(
        "soe_inject_context_schema_field", {"field_name": "score", "field_definition": "- 1"}
    )
    assert out(refused) == "Field definition must be a dictionary/object"


def family(child_nodes: dict[str, Any], **child_node: Any) -> dict[str, Any]:
    """Workflow ``main`` starts a child of workflow ``child`` on GO."""
    spawn = {"node_type": "child", "event_triggers": ["GO"], "child_workflow_name": "child",
             "child_initial_signals": ["WORK"], **child_node}  # fmt: skip
    return {"main": {"Spawn": spawn}, "child": child_nodes}


def test_q_30_identity_change_in_a_child_goes_to_the_main_execution():
    """F-BI-21, with our Q-30 fix: an identity built-in in a child changes the tree's, which the main execution keeps."""
    registry = family(
        {"B": builtin_node("soe_inject_identity", "WORK",
                           parameters={"identity_name": "helper", "system_prompt": "Be brief."})}
    )  # fmt: skip
    host = ScriptedHost()
    main = host.start(registry, ["GO"], workflow="main", execution_id="main")
    host.run()
    child = host.executions["main/Spawn-1"]
    assert child.state.identities == {"helper": "Be brief."}
    assert main.state.identities == {"helper": "Be brief."}


def test_q_30_a_parent_applies_a_childs_change_and_passes_it_on_up():
    parent = {"parent_execution_id": "main", "main_execution_id": "main"}
    host = ScriptedHost()
    execution = host.start({"wf": {}}, ["X"], {"__parent__": parent}, identities={"a": "A"})
    host.run()
    change = TreeConfigChange(identities={"a": None, "b": "B"})
    messages = execution.receive_from_child("grandchild", MessageToParent(tree_changes=[change]))
    assert execution.state.identities == {"b": "B"}
    assert execution.state.pending == []  # no broadcast for a change alone
    assert messages == [TellParent("main", MessageToParent(tree_changes=[change]))]


def test_q_30_a_change_goes_up_at_once_while_values_wait_for_their_signal():
    parent = {"parent_execution_id": "main", "main_execution_id": "main",
              "context_updates_to_parent": ["x"]}  # fmt: skip
    execution = start({"wf": {}}, ["LATER"], {"__parent__": parent})
    execution.write_output("x", 1)
    execution.change_tree_config(identities={"a": "A"})
    [early] = execution.receive_from_child("none", MessageToParent())
    assert early.message.updates == [] and early.message.tree_changes
    [later] = execution.process_pending()
    assert later.message.updates == [("x", 1)]


def test_q_30_main_execution_applies_a_childs_change():
    execution = start({"wf": {}}, ["GO"], identities={"a": "A", "b": "B"})
    execution.apply_tree_config_change(
        TreeConfigChange(identities={"a": None, "c": "C"}, context_schema={"f": {"type": "x"}})
    )
    assert execution.state.identities == {"b": "B", "c": "C"}
    assert execution.state.context_schema == {"f": {"type": "x"}}


def test_q_30_change_in_the_main_execution_stays_there():
    registry = {"wf": {"B": builtin_node("soe_inject_context_schema_field",
                                         parameters={"field_name": "f",
                                                     "field_definition": {"type": "x"}})}}  # fmt: skip
    host = ScriptedHost()
    execution = host.start(registry, ["GO"])
    host.run()
    assert execution.state.context_schema == {"f": {"type": "x"}}
    assert host.undelivered == []


# == F-BI-19 / F-BI-20: tools ==========================================================


def test_f_bi_19_available_tools():
    registry = {"wf": {"B": builtin_node("soe_get_available_tools")}}
    execution = start(registry, ["GO"])
    execution.learn_tools(facts_of({"greet": lambda name: name}))
    run(execution)
    assert out(execution) == {"builtin_tools": BUILTIN_NAMES, "user_tools": ["greet"]}
    assert len(BUILTIN_NAMES) == 19


def call_tool_execution(arguments: Any, tools: dict[str, Any]) -> tuple[Execution, list[Any]]:
    node = builtin_node("soe_call_tool", parameters={"tool_name": "add", "arguments": arguments})
    execution = start({"wf": {"B": node}}, ["GO"])
    execution.learn_tools(facts_of(tools))
    return execution, execution.process_pending()


def add(a: int, b: int) -> int:
    return a + b


def test_f_bi_20_call_tool_runs_the_registry_tool_and_wraps_its_result():
    execution, [command] = call_tool_execution('{"a": 1, "b": 2}', {"add": add})
    assert command.tool_name == "add" and command.parameters == {"a": 1, "b": 2}
    execution.complete_call(command.call_id, ToolOutcome("ok", result=3))
    assert out(execution) == {"success": True, "tool_name": "add", "result": 3}
    assert ops(execution)["tool_calls"] == 2  # the node's call and the dispatch


def test_f_bi_20_type_error_and_other_errors_are_returned_not_raised():
    execution, [command] = call_tool_execution('{"a": 1}', {"add": add})
    execution.complete_call(
        command.call_id, ToolOutcome("failed", error="missing b", exception_type="TypeError")
    )
    assert out(execution) == {"error": "Argument error for 'add': missing b", "tool_name": "add"}
    assert execution.state.failures == []
    execution, [command] = call_tool_execution('{"a": 1, "b": 2}', {"add": add})
    execution.complete_call(command.call_id, ToolOutcome("failed", error="boom", max_retries=3))
    assert out(execution) == {"error": "Tool 'add' failed: boom", "tool_name": "add"}


def test_f_bi_20_invalid_json_arguments():
    execution, commands = call_tool_execution("{nope", {"add": add})
    assert commands == []
    assert out(execution)["error"].startswith("Invalid JSON arguments:")


def test_q_36_call_tool_sees_only_the_registry():
    execution, commands = call_tool_execution("{}", {})
    assert commands == []
    assert out(execution) == {"error": "Tool 'add' not found", "available_tools": []}


def test_f_bi_20_arguments_written_as_a_mapping_are_taken_as_is():
    execution, [command] = call_tool_execution({"a": 1, "b": 2}, {"add": add})
    assert command.tool_name == "add" and command.parameters == {"a": 1, "b": 2}


def test_f_bi_20_json_arguments_that_are_not_an_object_are_an_argument_error():
    for text in ("[1, 2]", "5", "null"):
        execution, commands = call_tool_execution(text, {"add": add})
        assert commands == []
        assert out(execution)["error"].startswith("Argument error for 'add': argument after **")
        assert execution.state.failures == []


def test_f_bi_20_dispatch_is_logged_with_the_parsed_arguments():
    execution, _ = call_tool_execution('{"a": 1, "b": 2}', {"add": add})
    [logged] = [e for e in taken_events(execution) if e.get("meta_tool")]
    assert logged == {"event_type": "tool_call", "meta_tool": "call_tool",
                      "invoked_tool": "add", "arguments": {"a": 1, "b": 2}}  # fmt: skip


def test_f_bi_20_arguments_that_do_not_fit_call_tool_fail_the_node():
    for parameters in ({"arguments": "{}"}, {"tool_name": "add", "bogus": 1}):
        execution = call("soe_call_tool", parameters)
        assert out(execution).startswith("soe_call_tool(): ")
        assert failure_of(execution) == out(execution)


def test_q_36_naming_a_builtin_in_call_tool_says_to_call_it_directly():
    execution = call("soe_call_tool", {"tool_name": "soe_get_context"})
    assert out(execution)["error"] == "Tool 'soe_get_context' not found"
    assert "call it directly" in out(execution)["hint"]


# == agents: built-ins by call name (Q-12 fix) ========================================


def agent(tools: list[str]) -> tuple[Execution, CallLlm]:
    node = {
        "node_type": "agent",
        "event_triggers": ["GO"],
        "prompt": "Work",
        "tools": tools,
        "output_field": "answer",
    }
    execution = Execution.start("e1", "wf", {"wf": {"A": node}}, {"x": 5}, ["GO"])
    execution.learn_tools({})
    return execution, only(execution.process_pending())


def test_q_12_agent_sees_builtins_by_the_name_it_calls():
    _, router = agent(["soe_add_signal", "soe_get_context"])
    shown = document(router)["available_tools"]
    assert shown.startswith("soe_add_signal(workflow_name: str, node_name: str,")
    assert "\n\nsoe_get_context(field: str | None, fields: list[str] | None)" in shown


def test_f_agent_3_builtin_arguments_schema_is_asked_for():
    execution, router = agent(["soe_get_context"])
    parameters = decide(execution, router, "call_tool", "soe_get_context")
    schema = describe_builtin("soe_get_context").arguments_schema
    assert json.dumps(schema) in parameters.prompt


def test_f_agent_7_agent_runs_a_builtin_here_and_reads_its_result_as_text():
    execution, router = agent(["soe_get_context"])
    parameters = decide(execution, router, "call_tool", "soe_get_context")
    next_router = only(reply(execution, parameters, '{"field": "x"}'))
    assert isinstance(next_router, CallLlm)
    assert "[Tool: soe_get_context]\n{'x': [5]}" in document(next_router)["conversation_history"]
    assert ops(execution)["tool_calls"] == 1


def test_f_agent_7_builtin_error_is_fed_back_to_the_agent():
    execution, router = agent(["soe_remove_workflow"])
    parameters = decide(execution, router, "call_tool", "soe_remove_workflow")
    next_router = only(reply(execution, parameters, '{"workflow_name": "ghost"}'))
    history = document(next_router)["conversation_history"]
    assert "[Tool Error: soe_remove_workflow]\nError executing soe_remove_workflow: Workflow " in (
        history
    )


def test_f_agent_7_io_builtin_is_a_host_call_wanting_text():
    execution, router = agent(["soe_list_contexts"])
    parameters = decide(execution, router, "call_tool", "soe_list_contexts")
    command = only(reply(execution, parameters, "{}"))
    assert isinstance(command, CallTool)
    assert command.tool_name == "soe_list_contexts" and command.as_text


def test_q_10_unlisted_builtin_is_not_an_agent_tool():
    execution, router = agent([])
    next_router = decide(execution, router, "call_tool", "soe_get_context")
    assert "Tool 'soe_get_context' not found" in document(next_router)["conversation_history"]


def test_f_bi_20_agent_call_tool_result_is_wrapped_text():
    execution, router = agent(["soe_call_tool"])
    execution.learn_tools(facts_of({"add": add}))
    parameters = decide(execution, router, "call_tool", "soe_call_tool")
    command = only(
        reply(
            execution, parameters, '{"tool_name": "add", "arguments": "{\\"a\\": 1, \\"b\\": 2}"}'
        )
    )
    assert isinstance(command, CallTool) and command.tool_name == "add"
    commands = execution.complete_call(command.call_id, ToolOutcome("ok", result=3))
    history = document(only(commands))["conversation_history"]
    assert "[Tool: soe_call_tool]\n{'success': True, 'tool_name': 'add', 'result': 3}" in history


# == F-BI-3..18: what the registry, identity and schema built-ins log ==================

LOGGED = [
    ("soe_inject_node", {"workflow_name": "wf", "node_name": "N", "node_config_data": ROUTER},
     {"tool": "soe_inject_node", "workflow_name": "wf", "node_name": "N"}),
    ("soe_remove_node", {"workflow_name": "wf", "node_name": "R"},
     {"tool": "soe_remove_node", "workflow_name": "wf", "node_name": "R"}),
    ("soe_remove_workflow", {"workflow_name": "old"},
     {"tool": "soe_remove_workflow", "workflow_name": "old"}),
    ("soe_add_signal", {"workflow_name": "wf", "node_name": "R", "signal_name": "Z",
                        "condition": "plain"},
     {"tool": "add_signal", "workflow_name": "wf", "node_name": "R", "signal": "Z"}),
    ("soe_inject_identity", {"identity_name": "h", "system_prompt": "p"},
     {"tool": "soe_inject_identity", "identity_name": "h", "action": "created"}),
    ("soe_remove_identity", {"identity_name": "old"},
     {"tool": "soe_remove_identity", "identity_name": "old"}),
    ("soe_inject_context_schema_field", {"field_name": "f", "field_definition": {"type": "string"}},
     {"tool": "soe_inject_context_schema_field", "field_name": "f", "action": "created"}),
    ("soe_remove_context_schema_field", {"field_name": "old"},
     {"tool": "soe_remove_context_schema_field", "field_name": "old"}),
]  # fmt: skip


def logged_by(tool_name: str, parameters: dict[str, Any]) -> list[dict[str, Any]]:
    registry = {"wf": {"B": builtin_node(tool_name, parameters=parameters), "R": ROUTER},
                "old": {"S": ROUTER}}  # fmt: skip
    execution = start(registry, ["GO"], identities={"old": "x"},
                      context_schema={"old": {"type": "string"}})  # fmt: skip
    run(execution)
    assert not execution.state.failures, execution.state.failures
    return [e for e in taken_events(execution) if "tool" in e]


def test_f_bi_3_to_18_each_change_is_logged_as_a_node_execution():
    for tool_name, parameters, data in LOGGED:
        assert logged_by(tool_name, parameters) == [{"event_type": "node_execution", **data}]


def test_f_bi_8_changing_an_existing_signal_logs_nothing():
    parameters = {"workflow_name": "wf", "node_name": "R", "signal_name": "A", "condition": "x"}
    assert logged_by("soe_add_signal", parameters) == []


def test_f_bi_13_non_mapping_updates_are_a_tool_failure():
    execution = call("soe_update_context", {"updates": "x=2"})
    assert out(execution) == "'updates' must map field names to values, got str"
    assert failure_of(execution) == out(execution)
