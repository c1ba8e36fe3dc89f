"""SOE's search attributes (temporal/search_attributes.py): what a start carries, and the
upserts that keep them current, only when a value changes."""

from __future__ import annotations

from temporalio.common import SearchAttributePair, TypedSearchAttributes

from soe_temporal.engine.status import ExecutionStatus
from soe_temporal.temporal.search_attributes import (
    FAILED_NODES,
    LAST_SIGNALS,
    MAIN_EXECUTION_ID,
    PARENT_EXECUTION_ID,
    STATUS,
    TOOL_CALLS,
    WORKFLOW_NAME,
    changes,
    dev_server_flags,
    is_unregistered_refusal,
    registration_commands,
    start_attributes,
)


def carried(**values) -> TypedSearchAttributes:
    keys = {"status": STATUS, "signals": LAST_SIGNALS, "failed": FAILED_NODES,
            "tools": TOOL_CALLS, "name": WORKFLOW_NAME}  # fmt: skip
    return TypedSearchAttributes(
        [SearchAttributePair(keys[name], value) for name, value in values.items()]
    )


def updated(updates) -> dict[str, object]:
    return {update.key.name: update.value for update in updates}


def test_a_start_carries_the_soe_workflow_its_tree_and_running():
    attributes = start_attributes("child_wf", "main-1", "parent-1")
    assert attributes.get(WORKFLOW_NAME) == "child_wf"
    assert attributes.get(STATUS) == "running"
    assert attributes.get(MAIN_EXECUTION_ID) == "main-1"
    assert attributes.get(PARENT_EXECUTION_ID) == "parent-1"


def test_a_main_execution_has_no_parent_attribute():
    assert start_attributes("wf", "main-1", None).get(PARENT_EXECUTION_ID) is None


def test_a_turn_that_ends_upserts_status_signals_and_counters_at_once():
    status = ExecutionStatus("idle", "wf", last_signals=("START", "WAITING"), tool_calls=2)
    assert updated(changes(carried(name="wf", status="running"), status)) == {
        "SoeStatus": "idle",
        "SoeLastSignals": ["START", "WAITING"],
        "SoeToolCalls": 2,
    }


def test_nothing_is_upserted_when_nothing_changed():
    status = ExecutionStatus("idle", "wf", last_signals=("START",), tool_calls=2)
    attributes = carried(name="wf", status="idle", signals=["START"], tools=2)
    assert changes(attributes, status) == []


def test_while_a_turn_runs_only_the_status_changes():
    status = ExecutionStatus("running", "wf", running_nodes=("Slow",))
    attributes = carried(name="wf", status="idle", signals=["START"], tools=2)
    assert updated(changes(attributes, status)) == {"SoeStatus": "running"}


def test_failed_nodes_are_cleared_when_a_later_turn_succeeds():
    status = ExecutionStatus("idle", "wf", last_signals=("RETRY",))
    attributes = carried(status="failed", signals=["GO"], failed=["Broken"])
    assert updated(changes(attributes, status)) == {
        "SoeStatus": "idle",
        "SoeLastSignals": ["RETRY"],
        "SoeFailedNodes": None,
    }


def test_the_dev_server_and_the_temporal_cli_register_every_attribute_with_its_type():
    flags = dev_server_flags()
    assert flags[:2] == ["--search-attribute", "SoeWorkflowName=Keyword"]
    assert "SoeLastSignals=KeywordList" in flags and "SoeTokens=Int" in flags
    command = registration_commands("prod")
    assert command.startswith("temporal operator search-attribute create --namespace prod")
    assert "--name SoeFailedNodes --type KeywordList" in command


def test_a_refusal_for_an_unregistered_attribute_is_recognised():
    assert is_unregistered_refusal(ValueError("search attribute SoeStatus is not defined"))
    assert is_unregistered_refusal(
        ValueError("Namespace default has no mapping defined for search attribute SoeStatus")
    )
    assert not is_unregistered_refusal(ValueError("workflow is busy"))


def test_docker_composes_namespace_job_registers_every_attribute_with_its_type():
    import re
    from pathlib import Path

    from soe_temporal.temporal.search_attributes import SEARCH_ATTRIBUTES, type_name

    compose = (Path(__file__).parents[2] / "docker-compose.yml").read_text()
    registered = dict(re.findall(r"\b(Soe\w+)=(Keyword|KeywordList|Int)\b", compose))
    assert registered == {key.name: type_name(key) for key in SEARCH_ATTRIBUTES}
