"""Built-in tools on Temporal (SOE_SPEC §18, F-BI-1..22), on the time-skipping server.

Built-ins that read or change the execution's own state run inside the workflow; the
ones that need I/O (listing executions, the packaged docs, another execution's context)
run in the tool activity. Edits live in the execution: kept through continue-as-new,
visible through get_workflows, used by children started afterwards.
"""

from __future__ import annotations

import json
from typing import Any

from examples.tools import TOOLS
from soe_temporal.engine.builtins import BUILTIN_NAMES
from soe_temporal.llm.providers.fake import FakeProvider, fake_answer
from soe_temporal.temporal.payloads import CONFIG_QUERY
from soe_temporal.testing import SoeTestEnvironment

from .conftest import EXAMPLES, DevServerInfo


def boom() -> None:
    raise RuntimeError("the tool broke")


def add(a: int, b: int) -> int:
    return a + b


REGISTRY = {**TOOLS, "boom": boom, "add": add}


def tool(tool_name: str, trigger: str = "GO", **config: Any) -> dict[str, Any]:
    return {
        "node_type": "tool",
        "event_triggers": [trigger],
        "tool_name": tool_name,
        "output_field": "out",
        **config,
    }


ROUTER = {"node_type": "router", "event_triggers": ["PING"], "event_emissions": [{"signal_name": "PONG"}]}  # fmt: skip


def config(**nodes: Any) -> dict[str, Any]:
    return {"workflows": {"main": nodes}}


def last(context: dict[str, Any], field: str = "out") -> Any:
    return context[field][-1]


async def test_f_bi_1_a_builtin_runs_in_the_workflow_without_an_activity():
    async with SoeTestEnvironment(tools_registry=REGISTRY) as env:
        eid = await env.soe.orchestrate(
            config(B=tool("soe_get_context", parameters={"field": "x"})), "main", ["GO"], {"x": 1}
        )
        context = await env.soe.get_context(eid)
        history = await env.client.get_workflow_handle(eid).fetch_history()
    assert last(context) == {"x": [1]}
    assert not [e for e in history.events if e.HasField("activity_task_scheduled_event_attributes")]


# == registry built-ins ================================================================


async def test_f_bi_5_get_workflows():
    async with SoeTestEnvironment(tools_registry=REGISTRY) as env:
        eid = await env.soe.orchestrate(
            config(B=tool("soe_get_workflows", parameters={"list_only": True})), "main", ["GO"], {}
        )
        context = await env.soe.get_context(eid)
    assert last(context) == {"workflow_names": ["main"]}


async def test_f_bi_3_injected_workflow_is_in_get_workflows():
    node = tool(
        "soe_inject_workflow",
        parameters={"workflow_name": "extra", "workflow_data": json.dumps({"R": ROUTER})},
    )
    async with SoeTestEnvironment(tools_registry=REGISTRY) as env:
        eid = await env.soe.orchestrate(config(B=node), "main", ["GO"], {})
        context = await env.soe.get_context(eid)
        workflows = await env.soe.get_workflows(eid)
    assert last(context)["injected"] is True
    assert workflows["extra"] == {"R": ROUTER}


async def test_d_16_invalid_injection_returns_the_config_error_and_changes_nothing():
    bad = {"R": {"node_type": "router", "event_triggers": "PING"}}
    node = tool("soe_inject_workflow", parameters={"workflow_name": "extra", "workflow_data": bad})
    async with SoeTestEnvironment(tools_registry=REGISTRY) as env:
        eid = await env.soe.orchestrate(config(B=node), "main", ["GO"], {})
        context = await env.soe.get_context(eid)
        workflows = await env.soe.get_workflows(eid)
        described = await env.soe.describe(eid)
    assert "Workflow 'extra', node 'R'" in last(context) and "event_triggers" in last(context)
    assert list(workflows) == ["main"]
    [failure] = described["failures"]
    assert failure["node_name"] == "B" and failure["error"] == last(context)


async def test_f_bi_22_injected_node_fires_on_a_later_signal():
    node = tool(
        "soe_inject_node",
        parameters={"workflow_name": "main", "node_name": "R", "node_config_data": ROUTER},
    )
    async with SoeTestEnvironment(tools_registry=REGISTRY) as env:
        eid = await env.soe.orchestrate(config(B=node), "main", ["GO"], {})
        await env.soe.broadcast_signals(eid, ["PING"])
        context = await env.soe.get_context(eid)
    assert context["__operational__"]["signals"] == ["GO", "PING", "PONG"]


async def test_f_bi_6_and_f_bi_7_remove_a_workflow_and_a_node():
    nodes = {
        "RemoveNode": tool(
            "soe_remove_node", parameters={"workflow_name": "main", "node_name": "R"}
        ),
        "RemoveWorkflow": tool(
            "soe_remove_workflow", trigger="GO", parameters={"workflow_name": "spare"}
        ),
        "R": ROUTER,
    }
    document = {"workflows": {"main": nodes, "spare": {"R": ROUTER}}}
    async with SoeTestEnvironment(tools_registry=REGISTRY) as env:
        eid = await env.soe.orchestrate(document, "main", ["GO"], {})
        await env.soe.broadcast_signals(eid, ["PING"])
        context = await env.soe.get_context(eid)
        workflows = await env.soe.get_workflows(eid)
    assert list(workflows) == ["main"] and "R" not in workflows["main"]
    assert context["__operational__"]["signals"] == ["GO", "PING"]  # nothing answers PING


async def test_f_bi_8_added_signal_is_emitted_on_the_next_run():
    # The condition travels in a parameter field, so it is not rendered as the tool's
    # parameters are (F-TOOL-5).
    arguments = {"workflow_name": "main", "node_name": "R", "signal_name": "EXTRA",
                 "condition": "{{ context.x | default(0) > 0 }}"}  # fmt: skip
    nodes = {"B": tool("soe_add_signal", context_parameter_field="arguments"), "R": ROUTER}
    async with SoeTestEnvironment(tools_registry=REGISTRY) as env:
        eid = await env.soe.orchestrate(
            config(**nodes), "main", ["GO"], {"arguments": arguments, "x": 1}
        )
        await env.soe.broadcast_signals(eid, ["PING"])
        context = await env.soe.get_context(eid)
    assert last(context) == {"status": "added", "message": "Added signal 'EXTRA' to node 'R'"}
    assert context["__operational__"]["signals"] == ["GO", "PING", "PONG", "EXTRA"]


# == context built-ins ==================================================================


async def test_f_bi_12_and_f_bi_13_update_then_get_context():
    nodes = {
        "Update": tool(
            "soe_update_context",
            parameters={"updates": {"x": 2}},
            event_emissions=[{"signal_name": "READ"}],
        ),  # fmt: skip
        "Read": tool("soe_get_context", trigger="READ", parameters={"fields": ["x"]}),
    }
    async with SoeTestEnvironment(tools_registry=REGISTRY) as env:
        eid = await env.soe.orchestrate(config(**nodes), "main", ["GO"], {"x": 1})
        context = await env.soe.get_context(eid)
    assert context["out"] == [{"status": "updated", "fields": ["x"]}, {"x": [1, 2]}]


async def test_f_bi_14_copy_context_from_and_to_other_executions():
    async with SoeTestEnvironment(tools_registry=REGISTRY) as env:
        source = await env.soe.orchestrate(config(R=ROUTER), "main", ["PING"], {"notes": "a"})
        target = await env.soe.orchestrate(config(R=ROUTER), "main", ["PING"], {"notes": "z"})
        copier = tool(
            "soe_copy_context",
            parameters={
                "source_execution_id": source,
                "target_execution_id": target,
                "fields": {"notes": "copied"},
            },
        )
        here = tool(
            "soe_copy_context",
            trigger="GO",
            parameters={"source_execution_id": source, "all_fields": True},
        )
        eid = await env.soe.orchestrate(config(Copier=copier, Here=here), "main", ["GO"], {})
        context = await env.soe.get_context(eid)
        copied_there = await env.soe.get_context(target)
    assert {"status": "copied", "source_execution": source, "target_execution": target,
            "fields_copied": {"notes": "copied"}} in context["out"]  # fmt: skip
    assert copied_there["copied"] == ["a"] and copied_there["notes"] == ["z"]
    assert context["notes"] == ["a"]


async def test_f_bi_14_copy_from_an_unknown_execution_is_an_error_result():
    node = tool(
        "soe_copy_context", parameters={"source_execution_id": "nobody", "all_fields": True}
    )
    async with SoeTestEnvironment(tools_registry=REGISTRY) as env:
        eid = await env.soe.orchestrate(config(B=node), "main", ["GO"], {})
        context = await env.soe.get_context(eid)
    assert last(context) == {"error": "Source execution 'nobody' not found"}


async def test_f_bi_14_copy_into_an_unknown_execution_is_an_error_result():
    node = tool(
        "soe_copy_context", parameters={"target_execution_id": "nobody", "all_fields": True}
    )
    async with SoeTestEnvironment(tools_registry=REGISTRY) as env:
        eid = await env.soe.orchestrate(config(B=node), "main", ["GO"], {"x": 1})
        context = await env.soe.get_context(eid)
    assert last(context) == {"error": "Target execution 'nobody' not found or closed"}


async def test_q_10_each_execution_s_builtin_acts_on_that_execution():
    node = tool("soe_get_context", parameters={"field": "x"})
    async with SoeTestEnvironment(tools_registry=REGISTRY) as env:
        first = await env.soe.orchestrate(config(B=node), "main", ["GO"], {"x": 1})
        second = await env.soe.orchestrate(config(B=node), "main", ["GO"], {"x": 2})
        contexts = [await env.soe.get_context(eid) for eid in (first, second)]
    assert [last(context) for context in contexts] == [{"x": [1]}, {"x": [2]}]


async def test_f_bi_15_list_contexts_says_when_the_server_cannot_list():
    async with SoeTestEnvironment(tools_registry=REGISTRY) as env:
        eid = await env.soe.orchestrate(config(B=tool("soe_list_contexts")), "main", ["GO"], {})
        context = await env.soe.get_context(eid)
    listed = last(context)
    assert listed["current_execution_id"] == eid and listed["contexts"] == []
    assert "cannot list workflows" in listed["note"]


async def test_f_bi_15_list_contexts_on_a_server_with_visibility(dev_server: DevServerInfo):
    import uuid
    from datetime import timedelta

    from soe_temporal import SoeClient, create_worker

    client = dev_server.server.client
    queue = f"list-{uuid.uuid4().hex[:6]}"
    store = dev_server.payloads
    soe = SoeClient(client, queue, wait_timeout=timedelta(minutes=1), payload_store=store)
    async with create_worker(client, queue, tools_registry=REGISTRY, payload_store=store):
        other = await soe.orchestrate(config(R=ROUTER), "main", ["PING"], {"user_request": "hi"})
        lister = tool("soe_list_contexts", trigger="LIST", parameters={"include_current": False})
        eid = await soe.orchestrate(config(L=lister), "main", ["START"], {})
        # Visibility is eventually consistent: list again until the other one shows.
        for _ in range(50):
            await soe.broadcast_signals(eid, ["LIST"])
            listed = last(await soe.get_context(eid))
            if any(c["execution_id"] == other for c in listed["contexts"]):
                break
    entry = next(c for c in listed["contexts"] if c["execution_id"] == other)
    assert entry == {"execution_id": other, "is_current": False, "user_request": "hi",
                     "signals": ["PING", "PONG"], "node_count": 1}  # fmt: skip
    assert all(c["execution_id"] != eid for c in listed["contexts"])


# == identities and context schema =======================================================


async def test_f_bi_10_injected_identity_is_used_by_a_later_llm_node():
    prompts: list[tuple[str, dict[str, Any]]] = []

    def call_llm(prompt: str, node_config: dict[str, Any]) -> str:
        prompts.append((prompt, node_config))
        return '{"answer": "ok"}'

    nodes = {
        "Inject": tool(
            "soe_inject_identity",
            parameters={"identity_name": "critic", "system_prompt": "Be harsh."},
            event_emissions=[{"signal_name": "ASK"}],
        ),  # fmt: skip
        "Ask": {
            "node_type": "llm",
            "event_triggers": ["ASK"],
            "prompt": "Judge",
            "identity": "critic",
            "output_field": "answer",
        },  # fmt: skip
    }
    async with SoeTestEnvironment(call_llm=call_llm, tools_registry=REGISTRY) as env:
        eid = await env.soe.orchestrate(config(**nodes), "main", ["GO"], {})
        shown = await env.client.get_workflow_handle(eid).query(CONFIG_QUERY)
        conversation = await env.client.get_workflow_handle(eid).query("soe_conversation")
    assert shown["identities"] == {"critic": "Be harsh."}
    assert conversation[0] == {"role": "system", "content": "Be harsh."}


async def test_q_30_identity_and_schema_changed_in_a_child_reach_the_main_execution():
    document = {
        "workflows": {
            "main": {
                "Spawn": {
                    "node_type": "child",
                    "event_triggers": ["GO"],
                    "child_workflow_name": "worker",
                    "child_initial_signals": ["WORK"],
                    "signals_to_parent": ["CHANGED"],
                },  # fmt: skip
                "Again": {
                    "node_type": "child",
                    "event_triggers": ["CHANGED"],
                    "child_workflow_name": "reader",
                    "child_initial_signals": ["READ"],
                    "signals_to_parent": ["READ_DONE"],
                    "context_updates_to_parent": ["seen"],
                },  # fmt: skip
            },
            "worker": {
                "Identity": tool(
                    "soe_inject_identity",
                    trigger="WORK",
                    parameters={"identity_name": "critic", "system_prompt": "Hm."},
                ),
                "Schema": tool(
                    "soe_inject_context_schema_field",
                    trigger="WORK",
                    parameters={"field_name": "score", "field_definition": "type: integer"},
                    event_emissions=[{"signal_name": "CHANGED"}],
                ),
            },  # fmt: skip
            "reader": {
                "Read": {
                    **tool("soe_get_identities", trigger="READ"),
                    "output_field": "seen",
                    "event_emissions": [{"signal_name": "READ_DONE"}],
                },
            },  # fmt: skip
        }
    }
    async with SoeTestEnvironment(tools_registry=REGISTRY) as env:
        eid = await env.soe.orchestrate(document, "main", ["GO"], {})
        shown = await env.client.get_workflow_handle(eid).query(CONFIG_QUERY)
        context = await env.soe.get_context(eid)
    assert shown["identities"] == {"critic": "Hm."}
    assert shown["context_schema"] == {"score": {"type": "integer"}}
    assert last(context, "seen") == {"critic": "Hm."}  # a child started afterwards has it


async def test_f_bi_17_injected_schema_field_shapes_a_later_llm_output():
    nodes = {
        "Schema": tool("soe_inject_context_schema_field",
                       parameters={"field_name": "score",
                                   "field_definition": {"type": "integer"}},
                       event_emissions=[{"signal_name": "ASK"}]),
        "Ask": {"node_type": "llm", "event_triggers": ["ASK"], "prompt": "Score it",
                "output_field": "score"},
    }  # fmt: skip
    prompts: list[str] = []

    def call_llm(prompt: str, _: dict[str, Any]) -> str:
        prompts.append(prompt)
        return '"a lot"' if len(prompts) == 1 else "7"

    async with SoeTestEnvironment(call_llm=call_llm, tools_registry=REGISTRY) as env:
        eid = await env.soe.orchestrate(config(**nodes), "main", ["GO"], {})
        context = await env.soe.get_context(eid)
    # F-SCHEMA-4: the bare value of the injected type is asked for, and checked.
    assert '{"title": "ScoreRoot", "type": "integer"}' in prompts[0]
    assert "Input should be a valid integer, unable to parse string as an integer" in prompts[1]
    assert context["score"] == [7]


async def test_f_bi_9_16_and_18_read_and_remove_schema_and_identities():
    nodes = {
        "RemoveField": tool("soe_remove_context_schema_field", parameters={"field_name": "a"},
                            event_emissions=[{"signal_name": "NEXT"}]),
        "RemoveIdentity": tool("soe_remove_identity", trigger="NEXT",
                               parameters={"identity_name": "x"},
                               event_emissions=[{"signal_name": "READ"}]),
        "Schema": tool("soe_get_context_schema", trigger="READ"),
        "Identities": tool("soe_get_identities", trigger="READ", parameters={"list_only": True}),
    }  # fmt: skip
    document = {
        "workflows": {"main": nodes},
        "context_schema": {"a": {"type": "string"}, "b": {"type": "integer"}},
        "identities": {"x": "X", "y": "Y"},
    }
    async with SoeTestEnvironment(tools_registry=REGISTRY) as env:
        eid = await env.soe.orchestrate(document, "main", ["GO"], {})
        context = await env.soe.get_context(eid)
    assert context["out"][-2:] == [{"b": {"type": "integer"}}, {"identity_names": ["y"]}]


# == tools ===============================================================================


async def test_f_bi_19_available_tools_lists_the_workers_registry():
    async with SoeTestEnvironment(tools_registry=REGISTRY) as env:
        eid = await env.soe.orchestrate(
            config(B=tool("soe_get_available_tools")), "main", ["GO"], {}
        )
        context = await env.soe.get_context(eid)
    assert last(context)["user_tools"] == list(REGISTRY)
    assert last(context)["builtin_tools"] == BUILTIN_NAMES


async def test_f_bi_20_call_tool_wraps_success_argument_errors_and_failures():
    calls = [
        {"tool_name": "add", "arguments": '{"a": 1, "b": 2}'},
        {"tool_name": "add", "arguments": '{"a": 1}'},
        {"tool_name": "boom"},
    ]
    nodes = {
        f"Call{index}": tool("soe_call_tool", parameters=arguments)
        for index, arguments in enumerate(calls)
    }
    async with SoeTestEnvironment(tools_registry=REGISTRY) as env:
        eid = await env.soe.orchestrate(config(**nodes), "main", ["GO"], {})
        context = await env.soe.get_context(eid)
        described = await env.soe.describe(eid)
    results = sorted(context["out"], key=str)
    assert {"success": True, "tool_name": "add", "result": 3} in results
    assert {"error": "Tool 'boom' failed: the tool broke", "tool_name": "boom"} in results
    [argument_error] = [r for r in results if str(r.get("error", "")).startswith("Argument")]
    assert "missing 1 required positional argument: 'b'" in argument_error["error"]
    assert described["failures"] == []
    assert context["__operational__"]["tool_calls"] == 6


# == docs ================================================================================


async def test_f_bi_2_explore_docs_runs_in_the_activity():
    nodes = {
        "List": tool("soe_explore_docs", parameters={"path": "/", "action": "list"}),
        "Tags": tool("soe_explore_docs", parameters={"path": "/", "action": "get_tags"}),
    }
    async with SoeTestEnvironment(tools_registry=REGISTRY) as env:
        eid = await env.soe.orchestrate(config(**nodes), "main", ["GO"], {})
        context = await env.soe.get_context(eid)
    listing, tags = context["out"] if "[FILE]" in context["out"][0] else context["out"][::-1]
    assert "[FILE] builtin_tools.md" in listing.splitlines()
    assert tags.startswith("Available tags: [")


# == durability and children =============================================================


async def test_f_bi_22_edits_survive_continue_as_new_and_reach_later_children():
    inject = tool(
        "soe_inject_workflow",
        parameters={"workflow_name": "extra", "workflow_data": {"R": ROUTER}},
    )
    child = {"node_type": "child", "event_triggers": ["SPAWN"], "child_workflow_name": "extra",
             "child_initial_signals": ["PING"], "signals_to_parent": ["PONG"]}  # fmt: skip
    async with SoeTestEnvironment(tools_registry=REGISTRY, continue_as_new_after_events=20) as env:
        eid = await env.soe.orchestrate(config(Inject=inject, Spawn=child), "main", ["GO"], {})
        for _ in range(5):  # enough signals for several runs
            await env.soe.broadcast_signals(eid, ["NOTHING"])
        await env.soe.broadcast_signals(eid, ["SPAWN"])
        workflows = await env.soe.get_workflows(eid)
        context = await env.soe.get_context(eid)
        description = await env.client.get_workflow_handle(eid).describe()
    assert description.raw_info.first_run_id != description.run_id  # it continued as new
    assert workflows["extra"] == {"R": ROUTER}
    assert context["__operational__"]["signals"][-2:] == ["SPAWN", "PONG"]


async def test_f_bi_22_a_new_execution_inheriting_the_config_gets_the_injected_workflow():
    inject = tool(
        "soe_inject_workflow",
        parameters={"workflow_name": "extra", "workflow_data": {"R": ROUTER}},
    )
    async with SoeTestEnvironment(tools_registry=REGISTRY) as env:
        first = await env.soe.orchestrate(config(Inject=inject), "main", ["GO"], {})
        second = await env.soe.orchestrate(
            None, "extra", ["PING"], {}, inherit_config_from_id=first
        )
        workflows = await env.soe.get_workflows(second)
        context = await env.soe.get_context(second)
    assert workflows["extra"] == {"R": ROUTER}
    assert context["__operational__"]["signals"] == ["PING", "PONG"]


async def test_self_evolving_example_runs_the_injected_workflow_in_a_child():
    async with SoeTestEnvironment(call_llm=FakeProvider()) as env:
        eid = await env.soe.orchestrate(
            EXAMPLES / "self_evolving.yaml", "main", ["START"], {"draft": "Durable state."}
        )
        context = await env.soe.get_context(eid)
        workflows = await env.soe.get_workflows(eid)
        [child] = (await env.soe.describe(eid))["children"]
        child_workflows = await env.soe.get_workflows(child)
        child_context = await env.soe.get_context(child)
    assert context["__operational__"]["signals"] == ["START", "EVOLVED", "REVIEWED", "COMPLETE"]
    assert context["__operational__"]["tool_calls"] == 2
    assert list(workflows) == ["main", "review"]
    assert list(workflows["main"]) == ["Architect", "Done", "SendToReview"]
    assert child_workflows["review"] == workflows["review"]
    assert child_context["__parent__"]["parent_execution_id"] == eid
    assert context["review"] == [
        "fake LLM answer to: Review this draft in one sentence: Durable state."
    ]


async def test_f_agent_3_an_agent_calls_builtins_here_and_in_the_activity_by_call_name():
    prompts: list[str] = []

    def call_llm(prompt: str, _: dict[str, Any]) -> str:
        prompts.append(prompt)
        return fake_answer(prompt)

    agent = {
        "node_type": "agent",
        "event_triggers": ["GO"],
        "prompt": 'Look around.\nsoe_explore_docs: {"path": "/", "action": "list"}\n'
        'soe_get_context: {"field": "topic"}',
        "tools": ["soe_explore_docs", "soe_get_context"],
        "output_field": "answer",
    }
    async with SoeTestEnvironment(call_llm=call_llm, tools_registry=REGISTRY) as env:
        eid = await env.soe.orchestrate(config(Agent=agent), "main", ["GO"], {"topic": "docs"})
        context = await env.soe.get_context(eid)
    assert context["__operational__"]["tool_calls"] == 2
    final_router = json.loads(prompts[-2].splitlines()[0])
    assert "soe_explore_docs(path: str, action: str" in final_router["available_tools"]
    seen = final_router["conversation_history"]
    assert "[Tool: soe_explore_docs]\n[FILE] builtin_tools.md" in seen
    assert "[Tool: soe_get_context]\n{'topic': ['docs']}" in seen


async def test_f_exec_6_executions_of_one_config_share_a_registry_but_not_its_edits():
    """A worker holds one registry per config for all its executions (temporal/shared.py);
    an execution's built-in edit is its own: the other execution's node does not fire."""
    edit = tool(
        "soe_inject_node",
        "EDIT",
        parameters={"workflow_name": "main", "node_name": "R", "node_config_data": ROUTER},
    )
    shared = config(Edit=edit)
    async with SoeTestEnvironment(tools_registry=REGISTRY) as env:
        edited = await env.soe.orchestrate(shared, "main", ["EDIT"], {})
        untouched = await env.soe.orchestrate(shared, "main", ["START"], {})
        await env.soe.broadcast_signals(edited, ["PING"])
        await env.soe.broadcast_signals(untouched, ["PING"])
        edited_context = await env.soe.get_context(edited)
        untouched_context = await env.soe.get_context(untouched)
        untouched_workflows = await env.soe.get_workflows(untouched)
    assert edited_context["__operational__"]["signals"][-2:] == ["PING", "PONG"]
    assert untouched_context["__operational__"]["signals"] == ["START", "PING"]
    assert list(untouched_workflows["main"]) == ["Edit"]
