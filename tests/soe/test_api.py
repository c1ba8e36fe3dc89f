"""orchestrate, broadcast_signals and the backends' reads through soe-ai's sync API."""

from __future__ import annotations

import pytest

from soe_temporal import ConfigError, NodeFailedError
from soe_temporal.errors import UnsupportedWriteError
from soe_temporal.soe import (
    OperationalValidationError,
    WorkflowValidationError,
    broadcast_signals,
    create_all_nodes,
    orchestrate,
    setup_orchestration,
)

from .conftest import EXAMPLES

WAITING = ["START", "WAITING_FOR_APPROVAL"]
APPROVED = [*WAITING, "APPROVED", "PROCESS_APPROVED", "COMPLETE"]


def start_approval(backends, broadcast, config) -> str:
    return orchestrate(
        config=config,
        initial_workflow_name="waiting_workflow",
        initial_signals=["START"],
        initial_context={"request": "laptop"},
        backends=backends,
        broadcast_signals_caller=broadcast,
    )


def test_orchestrate_returns_once_idle_and_get_context_reads_the_context(
    backends, nodes_and_broadcast, approval
):
    _, broadcast = nodes_and_broadcast
    execution_id = start_approval(backends, broadcast, approval)
    context = backends.context.get_context(execution_id)
    assert context["__operational__"]["signals"] == WAITING
    assert context["request"] == ["laptop"]


def test_broadcast_signals_in_the_guides_keyword_form_returns_once_idle(
    backends, nodes_and_broadcast, approval
):
    _, broadcast = nodes_and_broadcast
    execution_id = start_approval(backends, broadcast, approval)
    broadcast_signals(execution_id=execution_id, signals=["APPROVED"], backends=backends)
    context = backends.context.get_context(execution_id)
    assert context["__operational__"]["signals"] == APPROVED
    assert context["final_result"] == [{"status": "approved", "next_step": "order placed"}]


def test_broadcast_signals_in_soe_ai_positional_form_returns_once_idle(
    backends, nodes_and_broadcast, approval
):
    nodes, broadcast = nodes_and_broadcast
    execution_id = start_approval(backends, broadcast, approval)
    broadcast_signals(execution_id, ["REJECTED"], nodes, backends)
    context = backends.context.get_context(execution_id)
    assert context["rejection_notice"] == [{"status": "rejected", "notified": True}]


def test_the_broadcast_signals_caller_signals_as_soe_ai_s_does(
    backends, nodes_and_broadcast, approval
):
    _, broadcast = nodes_and_broadcast
    execution_id = start_approval(backends, broadcast, approval)
    broadcast(execution_id, ["APPROVED"])
    assert backends.context.get_context(execution_id)["__operational__"]["signals"] == APPROVED


def test_ecosystem_children_report_to_the_parent_before_orchestrate_returns(backends):
    def call_llm(prompt: str, config: dict) -> str:
        return '{"result": {"summary": "short"}}'

    _, broadcast = create_all_nodes(backends, call_llm=call_llm)
    execution_id = orchestrate(
        config=(EXAMPLES / "classifier_ecosystem.yaml").read_text(),
        initial_workflow_name="main_workflow",
        initial_signals=["START"],
        initial_context={"input_type": "text", "content": "hello"},
        backends=backends,
        broadcast_signals_caller=broadcast,
    )
    context = backends.context.get_context(execution_id)
    signals = context["__operational__"]["signals"]
    assert {"HANDLE_TEXT", "PROCESSING_COMPLETE", "DONE", "COMPLETE"} <= set(signals)
    assert len(context["result"]) == 1  # the child's result, sent up once
    assert backends.identity.get_identity(execution_id, "text_analyzer").startswith("You are")
    assert backends.context_schema.get_context_schema(execution_id)["content"]["type"] == "string"


def test_a_config_error_is_a_workflow_validation_error_and_a_config_error(
    backends, nodes_and_broadcast
):
    _, broadcast = nodes_and_broadcast
    bad = {"main": {"Broken": {"node_type": "router"}}}  # no event_triggers
    with pytest.raises(WorkflowValidationError) as raised:
        orchestrate(bad, "main", ["START"], {}, backends, broadcast)
    assert isinstance(raised.value, ConfigError)


def test_a_missing_initial_workflow_names_the_available_ones(
    backends, nodes_and_broadcast, approval
):
    _, broadcast = nodes_and_broadcast
    with pytest.raises(WorkflowValidationError, match="waiting_workflow"):
        orchestrate(approval, "nope", ["START"], {}, backends, broadcast)


def test_yaml_that_does_not_parse_is_also_a_value_error(backends, nodes_and_broadcast):
    _, broadcast = nodes_and_broadcast
    with pytest.raises(ValueError, match="Invalid YAML configuration") as raised:
        orchestrate("main: [unclosed", "main", ["START"], {}, backends, broadcast)
    assert isinstance(raised.value, WorkflowValidationError)


def test_inheriting_from_an_unknown_execution_is_a_value_error(backends, nodes_and_broadcast):
    _, broadcast = nodes_and_broadcast
    with pytest.raises(ValueError, match="Cannot inherit config from execution 'gone'"):
        orchestrate(None, "main", ["START"], {}, backends, broadcast, inherit_config_from_id="gone")


def test_reads_of_an_unknown_execution_answer_as_soe_ai_s_in_memory_backends(backends):
    assert backends.context.get_context("unknown") == {}
    assert backends.workflow.get_workflows_registry("unknown") is None
    assert backends.workflow.get_current_workflow_name("unknown") == ""
    assert backends.conversation_history.get_conversation_history("unknown") == []
    assert backends.context_schema.get_context_schema("unknown") is None
    assert backends.identity.get_identities("unknown") is None


def test_broadcast_to_an_unknown_execution_raises_soe_ai_s_operational_error(backends):
    with pytest.raises(OperationalValidationError, match="No context found for execution_id"):
        broadcast_signals("unknown", ["GO"], None, backends)


def test_the_workflow_facet_reads_the_registry_and_current_workflow(
    backends, nodes_and_broadcast, approval
):
    _, broadcast = nodes_and_broadcast
    execution_id = start_approval(backends, broadcast, approval)
    assert list(backends.workflow.get_workflows_registry(execution_id)) == ["waiting_workflow"]
    assert backends.workflow.get_current_workflow_name(execution_id) == "waiting_workflow"


def test_cleanup_all_terminates_the_executions_and_is_idempotent(
    backends, nodes_and_broadcast, approval
):
    _, broadcast = nodes_and_broadcast
    execution_id = start_approval(backends, broadcast, approval)
    backends.cleanup_all()
    backends.cleanup_all()
    assert backends.context.get_context(execution_id) == {}


def test_backends_stay_usable_after_cleanup_all(backends, nodes_and_broadcast, approval):
    _, broadcast = nodes_and_broadcast
    backends.cleanup_all()
    execution_id = start_approval(backends, broadcast, approval)
    broadcast(execution_id, ["APPROVED"])
    assert backends.context.get_context(execution_id)["__operational__"]["signals"] == APPROVED


def test_create_all_nodes_offers_soe_ai_s_node_keys_for_the_callables_given(backends):
    bare, _ = create_all_nodes(backends)
    full, _ = create_all_nodes(backends, call_llm=lambda p, c: "", tools_registry={})
    assert sorted(bare) == ["child", "router"]
    assert sorted(full) == ["agent", "child", "llm", "router", "tool"]


def test_create_all_nodes_rejects_a_bad_registry_entry_as_soe_ai_does(backends):
    with pytest.raises(WorkflowValidationError, match="must be a callable or dict"):
        create_all_nodes(backends, tools_registry={"broken": 42})


def test_setup_orchestration_returns_backends_and_a_working_caller(approval):
    from examples.tools import TOOLS

    backends, broadcast = setup_orchestration(tools_registry=TOOLS)
    try:
        execution_id = start_approval(backends, broadcast, approval)
        broadcast(execution_id, ["APPROVED"])
        assert backends.context.get_context(execution_id)["final_result"]
    finally:
        backends.cleanup_all()


def test_unsupported_writes_raise_an_error_that_says_why(backends):
    with pytest.raises(UnsupportedWriteError, match="captured when it starts"):
        backends.workflow.save_workflows_registry("x", {})
    with pytest.raises(UnsupportedWriteError, match="record their own events"):
        backends.telemetry.log_event("x", "custom")
    with pytest.raises(UnsupportedWriteError, match="main execution"):
        backends.conversation_history.append_to_conversation_history("x", {})


def test_telemetry_get_events_reads_the_executions_events_in_order(
    backends, nodes_and_broadcast, approval
):
    """F-TEL: soe-ai's event records (event_type, timestamp, context), read back from the
    execution's history, including what a later broadcast_signals caused."""
    _, broadcast = nodes_and_broadcast
    execution_id = start_approval(backends, broadcast, approval)
    broadcast(execution_id, ["APPROVED"])
    events = backends.telemetry.get_events(execution_id)
    kinds = [event["event_type"] for event in events]
    assert kinds[0] == "orchestration_start"
    assert "tool_call" in kinds and kinds.count("signals_broadcast") >= 2
    assert all(set(event) == {"event_type", "timestamp", "context"} for event in events)
    assert backends.telemetry.get_events("no-such-id") == []


def test_inherit_context_from_an_execution_of_these_backends(
    backends, nodes_and_broadcast, approval
):
    _, broadcast = nodes_and_broadcast
    first = start_approval(backends, broadcast, approval)
    second = orchestrate(
        None, "waiting_workflow", ["APPROVED"], {}, backends, broadcast,
        inherit_config_from_id=first, inherit_context_from_id=first,
    )  # fmt: skip
    context = backends.context.get_context(second)
    assert context["request"] == ["laptop"]
    assert context["final_result"] == [{"status": "approved", "next_step": "order placed"}]


def test_an_execution_of_other_backends_is_unknown_to_these(nodes_and_broadcast, approval):
    from soe_temporal.soe.local_backends import create_in_memory_backends

    nodes, broadcast = nodes_and_broadcast
    execution_id = start_approval(nodes.backends, broadcast, approval)
    others = create_in_memory_backends()
    try:
        assert others.context.get_context(execution_id) == {}
        with pytest.raises(OperationalValidationError):
            broadcast_signals(execution_id=execution_id, signals=["APPROVED"], backends=others)
    finally:
        others.cleanup_all()


def test_orchestrate_without_a_caller_runs_on_the_backends_own_worker(backends):
    config = {"main": {"Go": {"node_type": "router", "event_triggers": ["START"],
                              "event_emissions": [{"signal_name": "DONE"}]}}}  # fmt: skip
    execution_id = orchestrate(config, "main", ["START"], {}, backends, None)
    assert backends.context.get_context(execution_id)["__operational__"]["signals"] == [
        "START",
        "DONE",
    ]


def test_orchestrate_hands_the_initial_signals_to_a_callers_own_broadcast_caller(
    backends, nodes_and_broadcast, approval
):
    """soe-ai's orchestrate delivers the initial signals through broadcast_signals_caller:
    a caller of the user's own (here soe-ai's usual lambda over broadcast_signals) is
    called with the new id and the signals, on the latest node set's worker."""
    nodes, _ = nodes_and_broadcast
    calls = []

    def caller(execution_id, signals):
        calls.append((execution_id, signals))
        broadcast_signals(execution_id, signals, nodes, backends)

    execution_id = orchestrate(approval, "waiting_workflow", ["START"], {}, backends, caller)
    assert calls == [(execution_id, ["START"])]
    assert backends.context.get_context(execution_id)["__operational__"]["signals"] == WAITING
    caller(execution_id, ["APPROVED"])
    assert backends.context.get_context(execution_id)["final_result"]


def test_anything_but_soe_temporal_backends_is_refused(approval):
    with pytest.raises(TypeError, match="create_in_memory_backends"):
        orchestrate(approval, "waiting_workflow", ["START"], {}, object(), None)


def test_a_failed_llm_node_escapes_orchestrate_as_a_runtime_error(backends):
    def call_llm(prompt: str, config: dict) -> str:
        raise ConnectionError("model unreachable")

    _, broadcast = create_all_nodes(backends, call_llm=call_llm)
    config = {"main": {"Ask": {"node_type": "llm", "event_triggers": ["START"],
                               "prompt": "Hi", "output_field": "answer"}}}  # fmt: skip
    with pytest.raises(RuntimeError, match="model unreachable"):
        orchestrate(config, "main", ["START"], {}, backends, broadcast)


def test_an_unknown_tool_at_run_time_escapes_as_workflow_validation_error(backends):
    """F-API-8 / F-VAL-9: soe-ai raises WorkflowValidationError for a tool node whose
    tool is neither in the registry nor a built-in; here it is also NodeFailedError."""
    _, broadcast = create_all_nodes(backends, tools_registry={})
    config = {"main": {"Use": {"node_type": "tool", "event_triggers": ["START"],
                               "tool_name": "nowhere"}}}  # fmt: skip
    with pytest.raises(WorkflowValidationError, match="nowhere") as raised:
        orchestrate(config, "main", ["START"], {}, backends, broadcast)
    assert isinstance(raised.value, NodeFailedError)


def test_a_missing_child_workflow_escapes_as_workflow_validation_error(backends):
    """F-VAL-12 applies when a child starts (F-CHILD-5)."""
    config = {"main": {"Spawn": {"node_type": "child", "event_triggers": ["START"],
                                 "child_workflow_name": "ghost",
                                 "child_initial_signals": ["START"]}}}  # fmt: skip
    with pytest.raises(WorkflowValidationError, match="Workflow 'ghost' not found"):
        orchestrate(config, "main", ["START"], {}, backends, None)


def test_a_built_in_exception_inside_a_node_escapes_as_itself():
    """F-EXEC-13: what user code raises where SOE does not catch propagates unchanged;
    the escaping error is that type and NodeFailedError, with its message."""
    from soe_temporal.soe.broker import node_failure_as_soe_ai

    failure = {"workflow_name": "main", "node_name": "N", "error": "boom", "cascade": 1,
               "handled": False, "at": "", "error_type": "KeyError"}  # fmt: skip
    error = node_failure_as_soe_ai(NodeFailedError("exec-1", [failure]))
    assert isinstance(error, KeyError) and isinstance(error, NodeFailedError)
    assert str(error).startswith("A node of execution 'exec-1' failed")
    untyped = NodeFailedError("exec-1", [{**failure, "error_type": ""}])
    assert node_failure_as_soe_ai(untyped) is untyped
