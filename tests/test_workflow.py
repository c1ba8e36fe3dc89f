"""SoeWorkflow on Temporal's time-skipping server: routers, tools, signals, waits, errors."""

from __future__ import annotations

import asyncio
from datetime import UTC, timedelta

import pytest
from temporalio.api.enums.v1 import EventType

from soe_temporal import (
    ConfigError,
    ExecutionClosedError,
    ExecutionNotFoundError,
    NodeFailedError,
)
from soe_temporal.temporal.payloads import SIGNAL_NAME
from soe_temporal.testing import SoeTestEnvironment

from .conftest import EXAMPLES

APPROVAL = EXAMPLES / "approval.yaml"


def finalize_approved() -> dict:
    return {"status": "approved"}


def notify_rejection() -> dict:
    return {"status": "rejected"}


APPROVAL_TOOLS = {"finalize_approved": finalize_approved, "notify_rejection": notify_rejection}


async def test_f_pat_11_approval_arrives_after_days_of_durable_waiting():
    """F-EXEC-10, F-PAT-11: an idle execution resumes when the signal comes, days later."""
    async with SoeTestEnvironment(tools_registry=APPROVAL_TOOLS) as env:
        eid = await env.soe.orchestrate(APPROVAL, "waiting_workflow", ["START"], {})
        waiting = await env.soe.get_context(eid)
        assert waiting["__operational__"]["signals"] == ["START", "WAITING_FOR_APPROVAL"]
        assert "final_result" not in waiting

        await env.sleep(timedelta(days=3))
        assert (await env.soe.describe(eid))["idle"] is True
        await env.soe.broadcast_signals(eid, ["APPROVED"])

        context = await env.soe.get_context(eid)
        assert context["final_result"] == [{"status": "approved"}]
        assert context["__operational__"]["signals"][-1] == "COMPLETE"
        assert context["__operational__"]["tool_calls"] == 1


async def test_f_pat_11_rejection_takes_the_other_branch():
    async with SoeTestEnvironment(tools_registry=APPROVAL_TOOLS) as env:
        eid = await env.soe.orchestrate(APPROVAL, "waiting_workflow", ["START"], {})
        await env.soe.broadcast_signals(eid, ["REJECTED"])
        context = await env.soe.get_context(eid)
        assert context["rejection_notice"] == [{"status": "rejected"}]
        assert "final_result" not in context


async def test_soe_signal_sent_as_a_plain_temporal_signal_continues_the_execution():
    """What `temporal workflow signal --name soe_signal --input '["APPROVED"]'` sends."""
    async with SoeTestEnvironment(tools_registry=APPROVAL_TOOLS) as env:
        eid = await env.soe.orchestrate(APPROVAL, "waiting_workflow", ["START"], {})
        await env.client.get_workflow_handle(eid).signal(SIGNAL_NAME, ["APPROVED"])
        await env.soe.wait_idle(eid)
        assert (await env.soe.get_context(eid))["final_result"] == [{"status": "approved"}]


async def test_f_exec_5_declaration_order_survives_temporal_payloads():
    """Node order is the YAML's, not alphabetical (Temporal's JSON would sort keys)."""
    config = """
order:
  Zulu:  {node_type: router, event_triggers: [GO], event_emissions: [{signal_name: Z}]}
  Alpha: {node_type: router, event_triggers: [GO], event_emissions: [{signal_name: A}]}
  Mike:  {node_type: router, event_triggers: [Z],  event_emissions: [{signal_name: M}]}
"""
    async with SoeTestEnvironment() as env:
        eid = await env.soe.orchestrate(config, "order", ["GO"], {"b": 1, "a": 2})
        context = await env.soe.get_context(eid)
        assert context["__operational__"]["signals"] == ["GO", "Z", "M", "A"]
        assert list(context)[:2] == ["b", "a"]
        assert list((await env.soe.get_workflows(eid))["order"]) == ["Zulu", "Alpha", "Mike"]


async def test_f_tool_5_inline_parameters_and_result_conditions_on_temporal():
    def send_mail(to: str, subject: str, urgent: bool) -> dict:
        return {"accepted": True, "to": to, "subject": subject, "urgent": urgent}

    async with SoeTestEnvironment(tools_registry={"send_mail": send_mail}) as env:
        eid = await env.soe.orchestrate(
            EXAMPLES / "notify.yaml",
            "notify",
            ["READY"],
            {"customer": {"email": "ada@example.com"}, "order_id": 42},
        )
        context = await env.soe.get_context(eid)
        assert context["mail_receipt"] == [
            {"accepted": True, "to": "ada@example.com", "subject": "Order 42", "urgent": True}
        ]
        assert context["__operational__"]["signals"] == ["READY", "MAIL_SENT"]


async def test_async_tools_are_awaited_and_plain_tools_run_in_threads():
    async def fetch(url: str) -> dict:
        await asyncio.sleep(0)
        return {"url": url, "async": True}

    def parse(page: dict) -> str:
        return f"parsed {page['url']}"

    config = """
pipeline:
  Fetch:
    node_type: tool
    event_triggers: [START]
    tool_name: fetch
    parameters: {url: "{{ context.url }}"}
    output_field: page
    event_emissions: [{signal_name: FETCHED}]
  Parse:
    node_type: tool
    event_triggers: [FETCHED]
    tool_name: parse
    context_parameter_field: parse_args
    output_field: summary
"""
    async with SoeTestEnvironment(tools_registry={"fetch": fetch, "parse": parse}) as env:
        eid = await env.soe.orchestrate(
            config,
            "pipeline",
            ["START"],
            {"url": "https://example.com", "parse_args": {"page": {"url": "u"}}},
        )
        context = await env.soe.get_context(eid)
        assert context["page"] == [{"url": "https://example.com", "async": True}]
        assert context["summary"] == ["parsed u"]


async def test_f_tool_10_failure_signal_and_error_text_after_retries():
    calls = []

    def flaky() -> str:
        calls.append(1)
        raise RuntimeError("service unavailable")

    config = """
work:
  Call:
    node_type: tool
    event_triggers: [START]
    tool_name: flaky
    output_field: outcome
    event_emissions: [{signal_name: OK}]
  Recover:
    node_type: router
    event_triggers: [CALL_FAILED]
    event_emissions: [{signal_name: RECOVERED}]
"""
    registry = {"flaky": {"function": flaky, "max_retries": 2, "failure_signal": "CALL_FAILED"}}
    async with SoeTestEnvironment(tools_registry=registry) as env:
        eid = await env.soe.orchestrate(config, "work", ["START"], {})
        context = await env.soe.get_context(eid)
        assert len(calls) == 3
        assert context["outcome"] == ["service unavailable"]
        ops = context["__operational__"]
        assert ops["errors"] == 3 and ops["tool_calls"] == 1
        assert ops["signals"] == ["START", "CALL_FAILED", "RECOVERED"]


async def test_tool_missing_from_registry_is_a_node_failure_and_the_execution_stays_usable():
    """DESIGN: a missing tool fails its node (describe and context show it), nothing hangs."""
    config = """
work:
  Call:
    node_type: tool
    event_triggers: [START]
    tool_name: not_registered
    output_field: outcome
  Later:
    node_type: router
    event_triggers: [AGAIN]
    event_emissions: [{signal_name: STILL_ALIVE}]
"""
    async with SoeTestEnvironment(tools_registry={}) as env:
        with pytest.raises(NodeFailedError) as failure:
            await env.soe.orchestrate(config, "work", ["START"], {}, execution_id="missing-tool")
        message = str(failure.value)
        assert "missing-tool" in message and "'Call'" in message and "not_registered" in message

        described = await env.soe.describe("missing-tool")
        assert described["status"] == "RUNNING"
        assert described["failures"][0]["node_name"] == "Call"
        context = await env.soe.get_context("missing-tool")
        assert "not_registered" in context["outcome"][0]
        assert context["__operational__"]["errors"] == 1

        await env.soe.broadcast_signals("missing-tool", ["AGAIN"])
        signals = (await env.soe.get_context("missing-tool"))["__operational__"]["signals"]
        assert signals[-1] == "STILL_ALIVE"


async def test_f_ctx_12_tool_result_that_is_not_json_fails_the_node_naming_tool_and_type():
    def tags() -> set:
        return {"a", "b"}

    config = """
work:
  Tag:
    node_type: tool
    event_triggers: [START]
    tool_name: tags
    output_field: tags
"""
    async with SoeTestEnvironment(tools_registry={"tags": tags}) as env:
        eid = await env.soe.orchestrate(config, "work", ["START"], {})
        context = await env.soe.get_context(eid)
        assert "tool 'tags'" in context["tags"][0] and "set" in context["tags"][0]
        assert context["__operational__"]["errors"] == 1


async def test_dataclass_and_datetime_results_are_carried_as_the_converter_carries_them():
    import dataclasses
    from datetime import datetime

    @dataclasses.dataclass
    class Receipt:
        number: int
        at: datetime

    def receipt() -> Receipt:
        return Receipt(7, datetime(2026, 1, 2, tzinfo=UTC))

    config = (
        "work: {R: {node_type: tool, event_triggers: [START], tool_name: receipt, output_field: r}}"
    )
    async with SoeTestEnvironment(tools_registry={"receipt": receipt}) as env:
        eid = await env.soe.orchestrate(config, "work", ["START"], {})
        assert (await env.soe.get_context(eid))["r"] == [
            {"number": 7, "at": "2026-01-02T00:00:00+00:00"}
        ]


async def _never_started(env: SoeTestEnvironment, execution_id: str) -> bool:
    try:
        await env.soe.describe(execution_id)
    except ExecutionNotFoundError:
        return True
    return False


@pytest.mark.parametrize(
    ("config", "workflow", "signals", "context", "expected"),
    [
        ("a: [", "a", ["S"], {}, "Invalid YAML configuration"),
        ("w: {N: {node_type: robot}}", "w", ["S"], {}, "unknown node_type 'robot'"),
        (APPROVAL, "nope", ["START"], {}, "Workflow 'nope' not found in config"),
        (APPROVAL, "waiting_workflow", [], {}, "'initial_signals' cannot be empty"),
        (APPROVAL, "waiting_workflow", "START", {}, "'initial_signals' must be a list"),
        (
            APPROVAL,
            "waiting_workflow",
            ["START"],
            {"tags": {"a"}},
            "initial_context['tags'] is a set",
        ),
        (APPROVAL, "waiting_workflow", ["START"], None, "'initial_context' must be a mapping"),
    ],
)
async def test_bad_input_is_refused_before_anything_starts(
    config, workflow, signals, context, expected
):
    """F-VAL-1: the parameter checks and their messages, before anything starts."""
    async with SoeTestEnvironment() as env:
        with pytest.raises(ConfigError, match=expected.replace("[", r"\[").replace("(", r"\(")):
            await env.soe.orchestrate(config, workflow, signals, context, execution_id="bad")
        assert await _never_started(env, "bad")


async def test_unknown_and_closed_executions_get_clear_errors():
    async with SoeTestEnvironment() as env:
        with pytest.raises(ExecutionNotFoundError, match="No execution 'ghost'"):
            await env.soe.broadcast_signals("ghost", ["X"])
        with pytest.raises(ExecutionNotFoundError):
            await env.soe.get_context("ghost")

        eid = await env.soe.orchestrate(EXAMPLES / "gate.yaml", "gate", ["BEGIN"], {"amount": 5})
        final = await env.soe.close(eid)
        assert final["__operational__"]["signals"] == ["BEGIN", "SMALL", "AUDIT"]
        with pytest.raises(ExecutionClosedError, match="completed"):
            await env.soe.broadcast_signals(eid, ["BEGIN"])
        with pytest.raises(ExecutionClosedError):
            await env.soe.broadcast_signals(eid, ["BEGIN"], wait=False)
        assert (await env.soe.get_context(eid)) == final
        assert (await env.soe.describe(eid))["status"] == "COMPLETED"


async def test_f_inh_1_f_inh_3_f_exec_10_an_unknown_execution_is_a_value_error_as_in_soe():
    """soe-ai raises ValueError for a missing inheritance source, and a soe-ai caller
    catches ValueError for a signal to an execution that does not exist; the error is
    still ExecutionNotFoundError, with its message."""
    async with SoeTestEnvironment() as env:
        with pytest.raises(ValueError, match="No execution 'ghost'") as signalled:
            await env.soe.broadcast_signals("ghost", ["X"])
        assert isinstance(signalled.value, ExecutionNotFoundError)
        with pytest.raises(ValueError, match="No execution 'ghost'"):
            await env.soe.orchestrate(None, "gate", ["BEGIN"], {}, inherit_config_from_id="ghost")
        with pytest.raises(ValueError, match="No execution 'ghost'"):
            await env.soe.orchestrate(
                EXAMPLES / "gate.yaml", "gate", ["BEGIN"], {}, inherit_context_from_id="ghost"
            )


async def test_q_29_cascade_limit_stops_a_runaway_loop_with_a_node_error():
    config = """
spin:
  Forever:
    node_type: router
    event_triggers: [START, AGAIN]
    event_emissions: [{signal_name: AGAIN}]
"""
    async with SoeTestEnvironment(cascade_limit=50) as env:
        with pytest.raises(NodeFailedError, match="Cascade limit reached"):
            await env.soe.orchestrate(config, "spin", ["START"], {}, execution_id="spin")
        context = await env.soe.get_context("spin")
        assert context["__operational__"]["nodes"]["Forever"] == 50
        assert context["__operational__"]["errors"] == 1


async def test_describe_reports_lineage_and_status():
    async with SoeTestEnvironment() as env:
        eid = await env.soe.orchestrate(EXAMPLES / "greeting.yaml", "greeting_flow", ["BEGIN"], {})
        described = await env.soe.describe(eid)
        assert described == described | {
            "execution_id": eid,
            "status": "RUNNING",
            "idle": True,
            "workflow_name": "greeting_flow",
            "main_execution_id": eid,
            "parent_execution_id": None,
            "children": [],
            "failures": [],
        }


async def test_a_later_yaml_edit_never_reaches_a_running_execution(tmp_path):
    """F-CFG-10: the config is captured at start and travels in the workflow input."""
    path = tmp_path / "flow.yaml"
    path.write_text(
        "w: {A: {node_type: router, event_triggers: [GO], event_emissions: [{signal_name: V1}]}}"
    )
    async with SoeTestEnvironment() as env:
        old = await env.soe.orchestrate(path, "w", ["GO"], {})
        path.write_text(
            "w: {A: {node_type: router, event_triggers: [GO], event_emissions: [{signal_name: V2}]}}"
        )
        await env.soe.broadcast_signals(old, ["GO"])
        new = await env.soe.orchestrate(path, "w", ["GO"], {})
        assert (await env.soe.get_context(old))["__operational__"]["signals"] == [
            "GO",
            "V1",
            "GO",
            "V1",
        ]
        assert (await env.soe.get_context(new))["__operational__"]["signals"] == ["GO", "V2"]


async def test_f_inh_1_3_4_inherit_config_and_context_from_a_closed_execution():
    """F-INH-1..4, F-INH-6: phase 2 reuses phase 1's workflows and data, fresh counters."""
    config = """
workflows:
  phase1:
    Collect: {node_type: router, event_triggers: [START], event_emissions: [{signal_name: COLLECTED}]}
  phase2:
    Report: {node_type: router, event_triggers: [RESUME], event_emissions: [{signal_name: REPORTED}]}
identities:
  analyst: "You analyse."
"""
    async with SoeTestEnvironment() as env:
        first = await env.soe.orchestrate(config, "phase1", ["START"], {"msg": "old", "n": 1})
        await env.soe.close(first)
        second = await env.soe.orchestrate(
            None,
            "phase2",
            ["RESUME"],
            {"msg": "new"},
            inherit_config_from_id=first,
            inherit_context_from_id=first,
        )
        context = await env.soe.get_context(second)
        assert context["msg"] == ["old", "new"] and context["n"] == [1]
        assert context["__operational__"]["signals"] == ["RESUME", "REPORTED"]
        assert context["__operational__"]["main_execution_id"] == second
        assert list(await env.soe.get_workflows(second)) == ["phase1", "phase2"]


async def test_f_val_2_config_or_inheritance_is_required():
    async with SoeTestEnvironment() as env:
        with pytest.raises(ConfigError, match="Either 'config' or 'inherit_config_from_id'"):
            await env.soe.orchestrate(None, "w", ["GO"], {})


async def test_soe_signal_accepts_a_bare_name_and_ignores_malformed_input():
    async with SoeTestEnvironment(tools_registry=APPROVAL_TOOLS) as env:
        eid = await env.soe.orchestrate(APPROVAL, "waiting_workflow", ["START"], {})
        handle = env.client.get_workflow_handle(eid)
        await handle.signal(SIGNAL_NAME, {"not": "a list"})
        await handle.signal(SIGNAL_NAME, [1, 2])
        await handle.signal(SIGNAL_NAME, "APPROVED")
        await env.soe.wait_idle(eid)
        context = await env.soe.get_context(eid)
        assert context["__operational__"]["signals"][2:] == [
            "APPROVED",
            "PROCESS_APPROVED",
            "COMPLETE",
        ]


async def test_malformed_soe_signals_are_kept_as_refused_input_that_describe_shows():
    """No silent drop: what could not be delivered is listed, with its time and how its
    payload began, and the execution goes on."""
    async with SoeTestEnvironment(tools_registry=APPROVAL_TOOLS) as env:
        eid = await env.soe.orchestrate(APPROVAL, "waiting_workflow", ["START"], {})
        handle = env.client.get_workflow_handle(eid)
        await handle.signal(SIGNAL_NAME, {"x": 1})
        await env.soe.wait_idle(eid)
        [refused] = (await env.soe.describe(eid))["rejected_inputs"]
        assert refused["message"] == SIGNAL_NAME and refused["payload"] == '{"x": 1}'
        assert "unknown keys ['x']" in refused["problem"] and refused["at"]
        await env.soe.broadcast_signals(eid, ["APPROVED"])  # the execution goes on
        assert (await env.soe.get_context(eid))["final_result"] == [{"status": "approved"}]


async def test_a_temporal_signal_under_another_name_is_kept_as_refused_input():
    async with SoeTestEnvironment(tools_registry=APPROVAL_TOOLS) as env:
        eid = await env.soe.orchestrate(APPROVAL, "waiting_workflow", ["START"], {})
        await env.client.get_workflow_handle(eid).signal("APPROVED", {"by": "ops"})
        await env.soe.wait_idle(eid)
        [refused] = (await env.soe.describe(eid))["rejected_inputs"]
        assert refused["message"] == "APPROVED" and refused["payload"] == '{"by":"ops"}'
        assert "--name soe_signal --input '[\"APPROVED\"]'" in refused["problem"]
        context = await env.soe.get_context(eid)
        assert context["__operational__"]["signals"] == ["START", "WAITING_FOR_APPROVAL"]


async def test_without_a_worker_waits_and_queries_end_with_a_clear_error():
    from soe_temporal import SoeClient, WaitTimeoutError, WorkerUnavailableError

    async with SoeTestEnvironment() as env:
        lonely = SoeClient(
            env.client,
            "nobody-polls-this-queue",
            wait_timeout=timedelta(seconds=1),
            query_timeout=timedelta(seconds=1),
        )
        with pytest.raises(WaitTimeoutError, match="nobody-polls-this-queue"):
            await lonely.orchestrate(
                EXAMPLES / "gate.yaml", "gate", ["BEGIN"], {"amount": 1}, execution_id="lonely"
            )
        with pytest.raises(WorkerUnavailableError, match="soe-temporal worker"):
            await lonely.get_context("lonely")


@pytest.mark.parametrize("wait", [True, False])
async def test_f_api_1_an_execution_id_already_taken_is_refused_as_bad_input(wait):
    """F-API-1: orchestrate with the id of an execution that exists starts nothing and
    says to choose another id, whether or not it waits (the wait goes with the start)."""
    async with SoeTestEnvironment(tools_registry=APPROVAL_TOOLS) as env:
        eid = await env.soe.orchestrate(APPROVAL, "waiting_workflow", ["START"], {})
        with pytest.raises(ConfigError, match=f"'{eid}' already exists; choose another"):
            await env.soe.orchestrate(
                APPROVAL, "waiting_workflow", ["START"], {}, execution_id=eid, wait=wait
            )
        context = await env.soe.get_context(eid)
        assert context["__operational__"]["signals"] == ["START", "WAITING_FOR_APPROVAL"]


async def test_f_api_1_orchestrate_waits_for_idle_with_the_start_itself():
    """The wait for idle goes with the start (update-with-start): the execution takes it
    in its first workflow task, and no other update follows."""
    async with SoeTestEnvironment(tools_registry=APPROVAL_TOOLS) as env:
        eid = await env.soe.orchestrate(APPROVAL, "waiting_workflow", ["START"], {})
        history = await env.client.get_workflow_handle(eid).fetch_history()
        kinds = [event.event_type for event in history.events]
        accepted = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
        assert kinds.count(accepted) == 1
        first_task_completed = kinds.index(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
        assert kinds.index(accepted) == first_task_completed + 1


async def test_sibling_tool_nodes_run_concurrently():
    """DESIGN: nodes triggered by one signal run at the same time, not one after another.
    Each tool waits until the other has started; run one at a time, they would time out."""
    started = {"left": asyncio.Event(), "right": asyncio.Event()}

    def tool_for(me: str, other: str):
        async def tool() -> str:
            started[me].set()
            await asyncio.wait_for(started[other].wait(), timeout=10)
            return f"{me} saw {other} running"

        return tool

    config = """
pair:
  Left: {node_type: tool, event_triggers: [GO], tool_name: left, output_field: left}
  Right: {node_type: tool, event_triggers: [GO], tool_name: right, output_field: right}
"""
    registry = {"left": tool_for("left", "right"), "right": tool_for("right", "left")}
    async with SoeTestEnvironment(tools_registry=registry) as env:
        eid = await env.soe.orchestrate(config, "pair", ["GO"], {})
        context = await env.soe.get_context(eid)
        assert context["left"] == ["left saw right running"]
        assert context["right"] == ["right saw left running"]


async def test_f_tool_6_non_mapping_arguments_fail_the_attempt_with_retries_and_failure_signal():
    def add(a: int, b: int) -> int:
        return a + b

    config = """
work:
  Add:
    node_type: tool
    event_triggers: [START]
    tool_name: add
    context_parameter_field: args
    output_field: sum
"""
    registry = {"add": {"function": add, "max_retries": 1, "failure_signal": "ADD_FAILED"}}
    async with SoeTestEnvironment(tools_registry=registry) as env:
        eid = await env.soe.orchestrate(config, "work", ["START"], {"args": [1, 2]})
        context = await env.soe.get_context(eid)
        assert context["__operational__"]["errors"] == 2
        assert context["__operational__"]["signals"] == ["START", "ADD_FAILED"]
        assert "must be a mapping" in context["sum"][0]


async def test_f_val_14_invalid_operational_state_in_the_initial_context_is_refused():
    """F-NODE-1: the operational check of a node's prologue runs once, at start, since only the engine writes __operational__ afterwards."""
    async with SoeTestEnvironment() as env:
        bad = {
            "signals": [],
            "nodes": {"Gate": "3"},
            "llm_calls": 0,
            "tool_calls": 0,
            "errors": 0,
            "main_execution_id": "x",
        }
        with pytest.raises(ConfigError, match=r"__operational__\.nodes\.Gate' - must be an int"):
            await env.soe.orchestrate(
                EXAMPLES / "gate.yaml", "gate", ["BEGIN"], {"__operational__": bad}
            )


async def test_a_result_past_the_state_limit_takes_the_node_s_failure_path():
    """max_state_bytes is the one size limit left: a write that would pass it fails the
    node that makes it, through its failure path, naming the size and the limit; the
    execution stays open and takes later signals. Large calls themselves are fine: their
    payloads go to the payload store."""
    config = """
w:
  Fetch:
    node_type: tool
    event_triggers: [FETCH]
    tool_name: fetch
    output_field: page
    event_emissions: [{signal_name: FETCHED}]
  Think:
    node_type: llm
    event_triggers: [THINK]
    prompt: "Think about {{ context.big }}"
    output_field: thought
    llm_failure_signal: THOUGHT_TOO_BIG
  Ping: {node_type: router, event_triggers: [PING], event_emissions: [{signal_name: PONG}]}
"""
    fetch = {"function": lambda: "y" * 80_000, "failure_signal": "FETCH_TOO_BIG"}

    async with SoeTestEnvironment(
        call_llm=lambda p, c: '{"thought": "%s"}' % ("z" * 80_000),
        tools_registry={"fetch": fetch},
        max_state_bytes=100_000,
    ) as env:
        eid = await env.soe.orchestrate(config, "w", ["FETCH"], {"big": "b" * 30_000})
        await env.soe.broadcast_signals(eid, ["THINK"])
        await env.soe.broadcast_signals(eid, ["PING"])
        context = await env.soe.get_context(eid)
        described = await env.soe.describe(eid)
    signals = context["__operational__"]["signals"]
    assert signals == ["FETCH", "FETCH_TOO_BIG", "THINK", "THOUGHT_TOO_BIG", "PING", "PONG"]
    assert "over its limit of 100000 (max_state_bytes)" in context["page"][0]
    assert "thought" not in context
    [fetch_failure, think_failure] = described["failures"]
    assert fetch_failure["node_name"] == "Fetch" and think_failure["node_name"] == "Think"
    assert "100000" in think_failure["error"]


async def test_a_tool_result_that_cannot_be_kept_is_not_run_again():
    runs: list[int] = []

    def tags() -> set:
        runs.append(1)
        return {"a"}

    config = "w: {T: {node_type: tool, event_triggers: [GO], tool_name: tags, output_field: out}}"
    registry = {"tags": {"function": tags, "max_retries": 3, "failure_signal": "TAGS_FAILED"}}
    async with SoeTestEnvironment(tools_registry=registry) as env:
        eid = await env.soe.orchestrate(config, "w", ["GO"], {})
        context = await env.soe.get_context(eid)
    assert runs == [1]
    assert context["__operational__"]["signals"] == ["GO", "TAGS_FAILED"]


async def test_f_tool_12_arguments_that_do_not_fit_the_tool_are_the_call_s_own_failure():
    """No signature check before the call: the tool's TypeError is a failed attempt,
    retried as any failure (max_retries), then the failure path."""
    calls: list[str] = []

    def greet(name: str) -> str:
        calls.append(name)
        return f"hi {name}"

    config = """
w:
  Greet:
    node_type: tool
    event_triggers: [GO]
    tool_name: greet
    parameters: {nom: "Ada"}
    output_field: out
"""
    registry = {"greet": {"function": greet, "max_retries": 1, "failure_signal": "FAILED"}}
    async with SoeTestEnvironment(tools_registry=registry) as env:
        eid = await env.soe.orchestrate(config, "w", ["GO"], {})
        context = await env.soe.get_context(eid)
    assert calls == []
    assert "unexpected keyword argument 'nom'" in context["out"][0]
    assert context["__operational__"]["errors"] == 2
    assert context["__operational__"]["signals"] == ["GO", "FAILED"]


async def test_an_execution_that_only_waits_reads_no_worker_options():
    """The worker's tool options are read (a local activity) when the first tool call
    needs them, not before: an approval waiting for a decision has run no activity."""
    from temporalio.api.enums.v1 import EventType

    async with SoeTestEnvironment(tools_registry=APPROVAL_TOOLS) as env:
        eid = await env.soe.orchestrate(APPROVAL, "waiting_workflow", ["START"], {})
        handle = env.client.get_workflow_handle(eid)
        kinds = [event.event_type for event in (await handle.fetch_history()).events]
        assert EventType.EVENT_TYPE_MARKER_RECORDED not in kinds
        await env.soe.broadcast_signals(eid, ["APPROVED"])
        kinds = [event.event_type for event in (await handle.fetch_history()).events]
        assert kinds.count(EventType.EVENT_TYPE_MARKER_RECORDED) == 1  # read once, then
        assert (await env.soe.get_context(eid))["final_result"] == [{"status": "approved"}]
