"""What an execution is doing (engine/status.py): the status, last signals and failed
nodes of its current or last turn, for search attributes and the Temporal UI."""

from __future__ import annotations

from soe_temporal.engine import ToolOutcome
from soe_temporal.engine.status import running_details, running_status

from .helpers import start

APPROVAL = {
    "waiting_workflow": {
        "Initialize": {
            "node_type": "router",
            "event_triggers": ["START"],
            "event_emissions": [{"signal_name": "WAITING_FOR_APPROVAL"}],
        },
        "HandleApproval": {
            "node_type": "tool",
            "event_triggers": ["APPROVED"],
            "tool_name": "finalize",
            "output_field": "result",
            "event_emissions": [{"signal_name": "COMPLETE"}],
        },
    }
}


def test_an_execution_waiting_for_a_decision_is_idle_with_the_signals_of_its_turn():
    execution = start(APPROVAL, ["START"], workflow="waiting_workflow")
    execution.process_pending()
    status = execution.status(busy=False)
    assert status.status == "idle"
    assert status.last_signals == ("START", "WAITING_FOR_APPROVAL")
    assert status.workflow_name == "waiting_workflow"


def test_an_execution_is_running_while_a_node_waits_for_its_call():
    execution = start(APPROVAL, ["START"], workflow="waiting_workflow")
    execution.process_pending()
    execution.deliver(["APPROVED"])
    assert execution.status(busy=False).status == "running"  # a signal waits
    [call] = execution.process_pending()
    status = execution.status(busy=False)
    assert status.status == "running" and status.running_nodes == ("HandleApproval",)


def test_a_new_turn_shows_only_its_own_signals():
    execution = start(APPROVAL, ["START"], workflow="waiting_workflow")
    execution.process_pending()
    execution.deliver(["APPROVED"])
    [call] = execution.process_pending()
    execution.complete_call(call.call_id, ToolOutcome("ok", result="done"))
    status = execution.status(busy=False)
    assert status.status == "idle"
    assert status.last_signals == ("APPROVED", "COMPLETE")
    assert status.tool_calls == 1


def test_an_execution_with_messages_still_on_their_way_is_running():
    execution = start(APPROVAL, ["START"], workflow="waiting_workflow")
    execution.process_pending()
    assert execution.status(busy=True).status == "running"


def test_a_turn_that_ends_with_an_unhandled_node_failure_is_failed_and_names_the_node():
    execution = start(APPROVAL, ["START"], workflow="waiting_workflow")
    execution.process_pending()
    execution.deliver(["APPROVED"])
    [call] = execution.process_pending()
    execution.complete_call(call.call_id, ToolOutcome("setup_failed", error="Tool not found"))
    status = execution.status(busy=False)
    assert status.status == "failed"
    assert status.failed_nodes == ("HandleApproval",)


def test_the_next_turn_that_succeeds_is_idle_again():
    execution = start(APPROVAL, ["START"], workflow="waiting_workflow")
    execution.process_pending()
    execution.deliver(["APPROVED"])
    [call] = execution.process_pending()
    execution.complete_call(call.call_id, ToolOutcome("setup_failed", error="Tool not found"))
    execution.deliver(["START"])
    execution.process_pending()
    status = execution.status(busy=False)
    assert status.status == "idle" and status.failed_nodes == ()


def test_a_closed_execution_says_closed():
    execution = start(APPROVAL, ["START"], workflow="waiting_workflow")
    execution.process_pending()
    assert execution.status(busy=False, closed=True).status == "closed"


def test_a_signal_repeated_in_a_turn_is_listed_once():
    execution = start(APPROVAL, ["START"], workflow="waiting_workflow")
    execution.deliver(["START"])
    execution.process_pending()
    assert execution.status(busy=False).last_signals == ("START", "WAITING_FOR_APPROVAL")


def test_the_ui_details_name_the_status_the_running_nodes_and_the_last_signals():
    execution = start(APPROVAL, ["START"], workflow="waiting_workflow")
    execution.process_pending()
    assert "WAITING_FOR_APPROVAL" in execution.status(busy=False).details()
    execution.deliver(["APPROVED"])
    execution.process_pending()
    details = execution.status(busy=False).details()
    assert "running" in details and "HandleApproval" in details


def test_the_running_details_made_directly_are_the_running_status_details():
    """The host refreshes the UI text after every call of a turn without making the
    status: the text must be the one the status gives."""
    for nodes in ([], ["Step1"], ["A", "B", "A"], [f"Node{i}" for i in range(60)]):
        assert running_details("chain", nodes) == running_status("chain", nodes).details()


def test_executions_running_the_same_nodes_share_one_details_text():
    """A worker caches thousands of executions: one text per workflow and running nodes."""
    first = running_details("chain", ["Step1", "Step2"])
    assert running_details("chain", ["Step1", "Step2"]) is first
    assert running_details("chain", ["Step2", "Step1"]) is not first
