"""Record the histories the replay test replays: `python -m tests.histories.record [NAME ...]`.

Run it after a change that is *meant* to alter histories (and say so in the commit);
the committed histories are how we notice changes that would break running executions.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from examples.tools import TOOLS
from soe_temporal.llm.providers.fake import fake_answer
from soe_temporal.temporal.payloads import SIGNAL_NAME
from soe_temporal.testing import SoeTestEnvironment

HERE = Path(__file__).parent
# The payloads the recorded histories refer to by claim (payloads over the threshold).
PAYLOADS = HERE / "payloads"
EXAMPLES = HERE.parent.parent / "examples"

FLAKY_CONFIG = """
work:
  Call:
    node_type: tool
    event_triggers: [START]
    tool_name: flaky
    output_field: outcome
  Local:
    node_type: tool
    event_triggers: [START]
    tool_name: add_numbers
    parameters: {a: 1, b: 2}
    output_field: sum
    temporal: {local: true}
"""

LOOP_CONFIG = """
loop:
  Next:
    node_type: router
    event_triggers: [START, STEPPED]
    event_emissions:
      - signal_name: STEP
        condition: "{{ context.__operational__.nodes.get('Next', 0) <= 6 }}"
  Step:
    node_type: tool
    event_triggers: [STEP]
    tool_name: add_numbers
    parameters: {a: 1, b: 1}
    output_field: steps
    event_emissions: [{signal_name: STEPPED}]
"""


def _flaky() -> str:
    raise RuntimeError("flaky by design")


def _bulky() -> str:
    return "bulky " * 2_000


# Two calls that end together (each waits for the other), so their outcomes reach the
# workflow in one task.
_MEETING = asyncio.Barrier(2)


async def _meet() -> str:
    await asyncio.wait_for(_MEETING.wait(), timeout=10)
    return "met"


REGISTRY = {
    **TOOLS,
    "flaky": {"function": _flaky, "max_retries": 1, "failure_signal": "FAILED"},
    "bulky": _bulky,
    "meet": _meet,
}


def _model(prompt: str, config: dict) -> str:
    """The fake model's answers, after one unreadable answer per node (a validation retry)."""
    if config.get("identity") == "talker":
        return _long_model(prompt, config)
    if "Your previous response was" not in prompt:
        return "not JSON at all"
    return fake_answer(prompt)


Scenario = Callable[[SoeTestEnvironment], Awaitable[str]]


async def approval(env: SoeTestEnvironment) -> str:
    eid = await env.soe.orchestrate(EXAMPLES / "approval.yaml", "waiting_workflow", ["START"], {})
    await env.sleep(timedelta(days=3))
    await env.soe.broadcast_signals(eid, ["APPROVED"])
    await env.soe.close(eid)
    return eid


async def notify(env: SoeTestEnvironment) -> str:
    context = {"customer": {"email": "a@b.c"}, "order_id": 1}
    return await env.soe.orchestrate(EXAMPLES / "notify.yaml", "notify", ["READY"], context)


async def depth_first(env: SoeTestEnvironment) -> str:
    eid = await env.soe.orchestrate(EXAMPLES / "depth_first.yaml", "demo", ["GO"], {})
    await env.soe.broadcast_signals(eid, ["GO"], wait=False)
    await env.soe.wait_idle(eid)
    return eid


async def failures_and_local(env: SoeTestEnvironment) -> str:
    return await env.soe.orchestrate(FLAKY_CONFIG, "work", ["START"], {})


async def continue_as_new(env: SoeTestEnvironment) -> str:
    return await env.soe.orchestrate(LOOP_CONFIG, "loop", ["START"], {})


async def llm(env: SoeTestEnvironment) -> str:
    context = {"input": "Q3 revenue grew 12%"}
    return await env.soe.orchestrate(
        EXAMPLES / "analyze_summarize.yaml", "example_workflow", ["START"], context
    )


async def agent(env: SoeTestEnvironment) -> str:
    context = {"question": "What does Temporal record?"}
    return await env.soe.orchestrate(
        EXAMPLES / "research_agent.yaml", "research", ["START"], context
    )


async def children(env: SoeTestEnvironment) -> str:
    context = {"urls": ["a", "b"]}
    return await env.soe.orchestrate(EXAMPLES / "fanout_field.yaml", "batch", ["BEGIN"], context)


async def self_evolving(env: SoeTestEnvironment) -> str:
    context = {"draft": "Temporal keeps workflow state durable."}
    return await env.soe.orchestrate(EXAMPLES / "self_evolving.yaml", "main", ["START"], context)


BUILTINS_CONFIG = """
workflows:
  main:
    Spawn:
      node_type: child
      event_triggers: [START]
      child_workflow_name: helper
      child_initial_signals: [WORK]
      signals_to_parent: [CHANGED]
    Docs:
      node_type: tool
      event_triggers: [CHANGED]
      tool_name: soe_explore_docs
      parameters: {path: docs, action: list}
      output_field: docs
  helper:
    Identity:
      node_type: tool
      event_triggers: [WORK]
      tool_name: soe_inject_identity
      parameters: {identity_name: critic, system_prompt: Be harsh.}
      output_field: changed
      event_emissions: [{signal_name: CHANGED}]
"""


async def builtins(env: SoeTestEnvironment) -> str:
    return await env.soe.orchestrate(BUILTINS_CONFIG, "main", ["START"], {})


FAN_IN_CONFIG = """
join:
  Fetch_a:
    node_type: tool
    event_triggers: [START]
    tool_name: add_numbers
    parameters: {a: 1, b: 1}
    output_field: a
    event_emissions: [{signal_name: PART_DONE}]
  Fetch_b:
    node_type: tool
    event_triggers: [START]
    tool_name: add_numbers
    parameters: {a: 2, b: 2}
    output_field: b
    event_emissions: [{signal_name: PART_DONE}]
  Join:
    node_type: router
    event_triggers: [PART_DONE]
    event_emissions:
      - signal_name: READY
        condition: "{{ context.a is defined and context.b is defined }}"
  Summarize:
    node_type: llm
    event_triggers: [READY]
    prompt: "Sum up {{ context.a }} and {{ context.b }}"
    output_field: summary
"""


async def fan_in(env: SoeTestEnvironment) -> str:
    """Each outcome's cascade runs as it is applied (F-EXEC-3, the patched behaviour)."""
    return await env.soe.orchestrate(FAN_IN_CONFIG, "join", ["START"], {})


SIDE_BY_SIDE_CONFIG = """
pair:
  A:
    node_type: tool
    event_triggers: [START]
    tool_name: meet
    output_field: a
    event_emissions: [{signal_name: A_DONE}]
    temporal: {local: true}
  B:
    node_type: tool
    event_triggers: [START]
    tool_name: meet
    output_field: b
    event_emissions: [{signal_name: B_DONE}]
    temporal: {local: true}
  After_a_1:
    node_type: tool
    event_triggers: [A_DONE]
    tool_name: add_numbers
    parameters: {a: 3, b: 3}
    output_field: a1
  After_a_2:
    node_type: tool
    event_triggers: [A_DONE]
    tool_name: add_numbers
    parameters: {a: 4, b: 4}
    output_field: a2
  After_b:
    node_type: tool
    event_triggers: [B_DONE]
    tool_name: add_numbers
    parameters: {a: 5, b: 5}
    output_field: b1
"""


async def side_by_side(env: SoeTestEnvironment) -> str:
    """F-EXEC-3 with calls in parallel: two calls end together, one's outcome starts two
    calls, the other's one. Recorded before a chain's next call ran in the task of the
    call before it: the calls must still start in the recorded order, with those ids."""
    return await env.soe.orchestrate(SIDE_BY_SIDE_CONFIG, "pair", ["START"], {})


STORED_CONFIG = """
workflows:
  big:
    Fetch:
      node_type: tool
      event_triggers: [START]
      tool_name: bulky
      output_field: page
      event_emissions: [{signal_name: FETCHED}]
    Talk:
      node_type: llm
      event_triggers: [FETCHED, SAID]
      prompt: "Go on"
      identity: talker
      output_field: said
      event_emissions:
        - signal_name: SAID
          condition: "{{ context.__operational__.nodes.Talk < 4 }}"
identities:
  talker: "You talk at length."
"""


def _long_model(prompt: str, config: dict) -> str:
    """A 6 KB answer, after one unreadable one (as the other scenarios' model)."""
    if "Your previous response was" not in prompt:
        return "not JSON at all"
    return json.dumps({"said": "said " + "more " * 1_200})


async def stored_payloads(env: SoeTestEnvironment) -> str:
    """Payloads over the threshold are claims (a 12 KB tool result, 6 KB answers, the
    state carried over), and the conversation travels as stored chunks."""
    return await env.soe.orchestrate(STORED_CONFIG, "big", ["START"], {})


CLAIMED_CONFIG = {
    "parent": {
        "Spawn": {
            "node_type": "child",
            "event_triggers": ["START"],
            "child_workflow_name": "worker",
            "child_initial_signals": ["W0"],
            "fan_out_field": "items",
            "child_input_field": "item",
            "signals_to_parent": ["W6"],
        },
        "Count": {
            "node_type": "router",
            "event_triggers": ["W6"],
            "event_emissions": [{"signal_name": "COUNTED"}],
        },
    },
    "worker": {
        f"Step{i}": {
            "node_type": "router",
            "event_triggers": [f"W{i}"],
            "event_emissions": [{"signal_name": f"W{i + 1}"}],
        }
        for i in range(6)
    },
}


async def config_claim(env: SoeTestEnvironment) -> str:
    """Payload version 4: the registry travels as a claim (start, children, continue-as-new)."""
    return await env.soe.orchestrate(CLAIMED_CONFIG, "parent", ["START"], {"items": [1, 2, 3]})


COMPACT_CONFIG = {
    "top": {
        "Spawn": {
            "node_type": "child",
            "event_triggers": ["START"],
            "child_workflow_name": "middle",
            "child_initial_signals": ["GO"],
            "input_fields": ["topic"],
            "signals_to_parent": ["MIDDLE_DONE"],
            "context_updates_to_parent": ["found"],
        },
    },
    "middle": {
        "Spawn": {
            "node_type": "child",
            "event_triggers": ["GO", "AGAIN"],
            "child_workflow_name": "bottom",
            "child_initial_signals": ["GO"],
            "signals_to_parent": ["FOUND"],
            "context_updates_to_parent": ["found"],
        },
        "Done": {
            "node_type": "router",
            "event_triggers": ["FOUND"],
            "event_emissions": [{"signal_name": "MIDDLE_DONE"}],
        },
    },
    "bottom": {
        "Find": {
            "node_type": "tool",
            "event_triggers": ["GO"],
            "tool_name": "add_numbers",
            "parameters": {"a": 2, "b": 3},
            "output_field": "found",
            "event_emissions": [{"signal_name": "FOUND"}],
        },
    },
}


async def compact_start(env: SoeTestEnvironment) -> str:
    """Payload version 5: a child's start leaves out its parent's and root's ids and the
    default limits; a signal with a request id, sent twice, is taken once. Recorded: the
    middle execution (a child that starts a child of its own)."""
    eid = await env.soe.orchestrate(COMPACT_CONFIG, "top", ["START"], {"topic": "t"})
    middle = f"{eid}/Spawn-1"
    for _ in range(2):
        await env.soe.broadcast_signals(middle, ["AGAIN"], request_id="again-1")
    return middle


async def saved_state(env: SoeTestEnvironment) -> str:
    """The soe_save update (soe-ai's backend writes): a context saved with one field more,
    identities and a context schema saved, then a signal that reads the saved field."""
    eid = await env.soe.orchestrate(EXAMPLES / "approval.yaml", "waiting_workflow", ["START"], {})
    context = await env.soe.get_context(eid)
    await env.soe.save_context(eid, {**context, "approver": ["ops"]})
    await env.soe.save_identities(eid, {"reviewer": "You review requests."})
    await env.soe.save_context_schema(eid, {"approver": {"type": "string"}})
    await env.soe.broadcast_signals(eid, ["APPROVED"])
    return eid


async def empty_signal_list(env: SoeTestEnvironment) -> str:
    """A soe_signal of an empty list (`temporal workflow signal --input '[]'`), then a
    signal. The empty list was refused before EMPTY_SIGNAL_LIST_PATCH and is a broadcast
    of nothing since; the committed history is from before."""
    eid = await env.soe.orchestrate(EXAMPLES / "approval.yaml", "waiting_workflow", ["START"], {})
    await env.client.get_workflow_handle(eid).signal(SIGNAL_NAME, [])
    await env.soe.wait_idle(eid)
    await env.soe.broadcast_signals(eid, ["APPROVED"])
    return eid


SCENARIOS: dict[str, Scenario] = {
    "approval": approval,
    "notify": notify,
    "depth_first": depth_first,
    "failures_and_local": failures_and_local,
    "continue_as_new": continue_as_new,
    "llm": llm,
    "agent": agent,
    "children": children,
    "self_evolving": self_evolving,
    "builtins": builtins,
    "fan_in": fan_in,
    "stored_payloads": stored_payloads,
    "config_claim": config_claim,
    "compact_start": compact_start,
    "saved_state": saved_state,
    "side_by_side": side_by_side,
    "empty_signal_list": empty_signal_list,
}


async def record(name: str, scenario: Scenario, payloads: Path = PAYLOADS) -> dict:
    """Run one scenario: {"workflow_id": ..., "history": <its first run's history as JSON>}
    (the id matters: child ids derive from it); what it stores goes to ``payloads``."""
    async with SoeTestEnvironment(
        call_llm=_model,
        tools_registry=REGISTRY,
        continue_as_new_after_events=25,
        payload_store=payloads,
    ) as env:
        eid = await scenario(env)
        description = await env.client.get_workflow_handle(eid).describe()
        first_run = env.client.get_workflow_handle(eid, run_id=description.raw_info.first_run_id)
        history = await first_run.fetch_history()
        return {"workflow_id": eid, "history": json.loads(history.to_json())}


async def main(names: list[str]) -> None:
    """Record the scenarios named (all of them when none is), keeping the others as they
    are: an older history that still replays is the better evidence."""
    for name, scenario in SCENARIOS.items():
        if names and name not in names:
            continue
        path = HERE / f"{name}.json"
        path.write_text(json.dumps(await record(name, scenario), indent=1) + "\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
