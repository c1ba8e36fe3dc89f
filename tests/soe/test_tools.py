"""Calls of the sync API from inside a tool running on the in-process worker."""

from __future__ import annotations

import time

from temporalio import activity

from soe_temporal.soe import broadcast_signals, create_all_nodes, orchestrate

from .conftest import EXAMPLES

CROSS = (EXAMPLES / "cross_execution.yaml").read_text()
HEARD = ["START", "LISTENING", "EXTERNAL_EVENT", "HEARD"]


def signals_of(backends, execution_id: str) -> list[str]:
    return backends.context.get_context(execution_id)["__operational__"]["signals"]


def start(backends, broadcast, workflow: str, context: dict) -> str:
    return orchestrate(
        config=CROSS,
        initial_workflow_name=workflow,
        initial_signals=["START"],
        initial_context=context,
        backends=backends,
        broadcast_signals_caller=broadcast,
    )


def test_a_plain_tool_signals_another_execution_without_deadlocking(backends):
    global_backends = backends

    def notify_other_workflow(other_execution_id: str) -> dict:
        broadcast_signals(
            execution_id=other_execution_id,
            signals=["EXTERNAL_EVENT"],
            backends=global_backends,
        )
        return {"notified": True}

    _, broadcast = create_all_nodes(
        backends, tools_registry={"notify_other_workflow": notify_other_workflow}
    )
    listener = start(backends, broadcast, "listener", {})
    notifier = start(backends, broadcast, "notifier", {"listener_id": listener})
    assert backends.context.get_context(notifier)["receipt"] == [{"notified": True}]
    assert signals_of(backends, listener) == HEARD


def test_a_tool_retried_by_temporal_signals_the_other_execution_once(backends):
    attempts: list[int] = []

    def notify_other_workflow(other_execution_id: str) -> dict:
        attempts.append(activity.info().attempt)
        broadcast_signals(
            execution_id=other_execution_id, signals=["EXTERNAL_EVENT"], backends=backends
        )
        if activity.info().attempt == 1:
            time.sleep(1.5)  # past start_to_close_timeout: Temporal runs the call again
        return {"notified": True}

    registry = {
        "notify_other_workflow": {
            "function": notify_other_workflow,
            "temporal": {
                "start_to_close_timeout": "1s",
                "retry_policy": {"initial_interval": "100ms", "maximum_attempts": 3},
            },
        }
    }
    _, broadcast = create_all_nodes(backends, tools_registry=registry)
    listener = start(backends, broadcast, "listener", {})
    start(backends, broadcast, "notifier", {"listener_id": listener})
    assert signals_of(backends, listener) == HEARD
    time.sleep(0.3)  # a second delivery would have landed by now
    assert backends.context.get_context(listener)["__operational__"]["signals"] == HEARD
    assert attempts == [1, 2]  # Temporal did run the tool twice


def test_an_async_tool_calling_the_sync_api_gets_the_guard_message_not_a_hang(backends):
    async def notify_other_workflow(other_execution_id: str) -> dict:
        broadcast_signals(
            execution_id=other_execution_id, signals=["EXTERNAL_EVENT"], backends=backends
        )
        return {"notified": True}

    _, broadcast = create_all_nodes(
        backends, tools_registry={"notify_other_workflow": notify_other_workflow}
    )
    listener = start(backends, broadcast, "listener", {})
    notifier = start(backends, broadcast, "notifier", {"listener_id": listener})
    # As in SOE, a failed tool with no failure signal leaves its error in output_field.
    context = backends.context.get_context(notifier)
    assert "current_soe_client" in context["receipt"][-1]
    assert context["__operational__"]["errors"] == 1


def test_orchestrate_from_a_tool_starts_an_execution_and_returns_its_id(backends):
    started: list[str] = []

    def start_listener() -> dict:
        started.append(start(backends, broadcast, "listener", {}))
        return {"listener": started[-1]}

    _, broadcast = create_all_nodes(backends, tools_registry={"start_listener": start_listener})
    config = {"main": {"Spawn": {"node_type": "tool", "event_triggers": ["START"],
                                 "tool_name": "start_listener", "output_field": "spawned"}}}  # fmt: skip
    orchestrate(config, "main", ["START"], {}, backends, broadcast)
    assert signals_of(backends, started[0]) == ["START", "LISTENING"]


def test_orchestrate_returns_once_the_execution_a_tool_signalled_has_reacted(backends):
    """soe-ai's calls return once every signal they caused is processed, in any
    execution: the listener's reaction (a tool here, which takes a while) is done when
    the notifier's orchestrate returns, though the tool's own call did not wait."""

    def notify_other_workflow(other_execution_id: str) -> dict:
        broadcast_signals(
            execution_id=other_execution_id, signals=["EXTERNAL_EVENT"], backends=backends
        )
        return {"notified": True}

    def record_event() -> dict:
        time.sleep(0.3)
        return {"recorded": True}

    config = CROSS.replace(
        """  React:
    node_type: router
    event_triggers: [EXTERNAL_EVENT]""",
        """  React:
    node_type: tool
    tool_name: record_event
    output_field: record
    event_triggers: [EXTERNAL_EVENT]""",
    )
    _, broadcast = create_all_nodes(
        backends,
        tools_registry={
            "notify_other_workflow": notify_other_workflow,
            "record_event": record_event,
        },
    )
    listener = orchestrate(config, "listener", ["START"], {}, backends, broadcast)
    orchestrate(config, "notifier", ["START"], {"listener_id": listener}, backends, broadcast)
    context = backends.context.get_context(listener)
    assert context["record"] == [{"recorded": True}]
    assert context["__operational__"]["signals"] == HEARD
