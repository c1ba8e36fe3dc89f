"""SOE's documented patterns (SOE_SPEC §21, F-PAT) and typical router uses (F-ROUTER-5),
each built from node primitives alone and run on the scripted host."""

from __future__ import annotations

import json
from typing import Any

from .helpers import ScriptedHost, ops


def router(triggers: list[str], *emissions: tuple[str, str] | str) -> dict[str, Any]:
    return {
        "node_type": "router",
        "event_triggers": triggers,
        "event_emissions": [
            {"signal_name": e} if isinstance(e, str) else {"signal_name": e[0], "condition": e[1]}
            for e in emissions
        ],
    }


def tool(triggers: list[str], tool_name: str, output: str, *emissions: str, **more: Any):
    return {"node_type": "tool", "event_triggers": triggers, "tool_name": tool_name,
            "output_field": output, "event_emissions": [{"signal_name": e} for e in emissions],
            **more}  # fmt: skip


def llm(triggers: list[str], output: str, *emissions: str, prompt: str = "Think") -> dict:
    return {"node_type": "llm", "event_triggers": triggers, "prompt": prompt,
            "output_field": output,
            "event_emissions": [{"signal_name": e} for e in emissions]}  # fmt: skip


def signals(host: ScriptedHost) -> list[str]:
    return ops(host.executions["exec-1"])["signals"]


def test_f_router_5_a_gate_routes_by_the_context():
    gate = {"CheckAmount": router(["BEGIN"], ("SMALL", "{{ context.amount < 100 }}"),
                                  ("LARGE", "{{ context.amount >= 100 }}"))}  # fmt: skip
    for amount, expected in ((5, "SMALL"), (500, "LARGE")):
        host = ScriptedHost()
        host.start({"wf": gate}, ["BEGIN"], {"amount": amount})
        host.run()
        assert signals(host) == ["BEGIN", expected]


def test_f_pat_3_a_router_after_llm_nodes_stops_at_an_llm_call_budget():
    """Relies on F-OPS-4: one llm_calls per llm node execution, retries not counted."""
    answers = iter(["not json", '{"thought": "a"}', '{"thought": "b"}', '{"thought": "c"}'])
    workflow = {
        "Think": llm(["START", "AGAIN"], "thought", "THOUGHT"),
        "Budget": router(["THOUGHT"],
                         ("AGAIN", "{{ context.__operational__.llm_calls < 3 }}"),
                         ("OVER_BUDGET", "{{ context.__operational__.llm_calls >= 3 }}")),
    }  # fmt: skip
    host = ScriptedHost(call_llm=lambda prompt, config: next(answers))
    execution = host.start({"wf": workflow}, ["START"])
    host.run()
    assert ops(execution)["llm_calls"] == 3
    assert signals(host)[-1] == "OVER_BUDGET"


def test_f_pat_4_a_router_after_tool_nodes_stops_at_a_tool_call_budget():
    workflow = {
        "Fetch": tool(["START", "AGAIN"], "fetch", "page", "FETCHED"),
        "Budget": router(["FETCHED"],
                         ("AGAIN", "{{ context.__operational__.tool_calls < 4 }}"),
                         ("ENOUGH", "{{ context.__operational__.tool_calls >= 4 }}")),
    }  # fmt: skip
    host = ScriptedHost({"fetch": lambda: "page"})
    execution = host.start({"wf": workflow}, ["START"])
    host.run()
    assert ops(execution)["tool_calls"] == 4
    assert signals(host)[-1] == "ENOUGH"


def test_f_pat_5_a_circuit_breaker_retries_until_too_many_errors():
    """Relies on F-OPS-6 (every failed attempt counts) and the tool's failure signal."""

    def flaky() -> str:
        raise RuntimeError("down")

    workflow = {
        "Call": tool(["START"], "flaky", "out", "OK"),
        "Breaker": router(["FAILED"],
                          ("START", "{{ context.__operational__.errors < 3 }}"),
                          ("CIRCUIT_OPEN", "{{ context.__operational__.errors >= 3 }}")),
    }  # fmt: skip
    host = ScriptedHost({"flaky": {"function": flaky, "failure_signal": "FAILED"}})
    execution = host.start({"wf": workflow}, ["START"])
    host.run()
    assert ops(execution)["errors"] == 3
    assert signals(host)[-1] == "CIRCUIT_OPEN"
    assert ops(execution)["nodes"]["Call"] == 3


def test_f_pat_6_guardrails_once_only_and_a_kill_switch_an_operator_flips_later():
    workflow = {
        "Once": router(["GO"], ("WELCOMED", "{{ context.__operational__.nodes.get('Once', 0) == 1 }}")),
        "Step": router(["GO"], ("STEPPED", "{{ context.kill_switch != true }}")),
    }  # fmt: skip
    host = ScriptedHost()
    execution = host.start({"wf": workflow}, ["GO"], {"kill_switch": False})
    host.run()
    execution.context["kill_switch"].append(True)  # an operator changes the context
    host.deliver("exec-1", ["GO"])
    host.run()
    assert signals(host) == ["GO", "WELCOMED", "STEPPED", "GO"]


def test_f_pat_9_safety_rails_validate_the_input_and_the_output():
    workflow = {
        "CheckInput": router(["START"], ("VALID", "{{ context.text | length > 0 }}"),
                             ("INVALID", "{{ context.text | length == 0 }}")),
        "Summarize": llm(["VALID"], "summary", "SUMMARIZED"),
        "CheckOutput": router(["SUMMARIZED"],
                              ("DONE", "{{ context.summary | length <= 10 }}"),
                              ("TOO_LONG", "{{ context.summary | length > 10 }}")),
    }  # fmt: skip
    outcomes = {}
    for text, answer in (("", "short"), ("long text", "short"), ("text", "far too long a summary")):
        host = ScriptedHost(call_llm=lambda p, c, a=answer: json.dumps({"summary": a}))
        host.start({"wf": workflow}, ["START"], {"text": text})
        host.run()
        outcomes[(text, answer)] = signals(host)[-1]
    assert list(outcomes.values()) == ["INVALID", "DONE", "TOO_LONG"]


def test_f_pat_10_a_react_loop_of_llm_router_and_tool():
    """The model decides, a router dispatches, a tool acts and re-triggers the model."""
    decisions = iter(["search", "search", "answer"])
    workflow = {
        "Decide": llm(["START", "OBSERVED"], "decision", "DECIDED"),
        "Dispatch": router(["DECIDED"], ("ACT", "{{ context.decision == 'search' }}"),
                           ("FINISH", "{{ context.decision == 'answer' }}")),
        "Act": tool(["ACT"], "search", "observation", "OBSERVED"),
    }  # fmt: skip
    host = ScriptedHost({"search": lambda: "found"},
                        call_llm=lambda p, c: json.dumps({"decision": next(decisions)}))  # fmt: skip
    execution = host.start({"wf": workflow}, ["START"])
    host.run()
    assert execution.context["observation"] == ["found", "found"]
    assert signals(host)[-1] == "FINISH"


def test_f_pat_12_a_tool_injects_a_node_that_a_later_signal_runs():
    """F-BI-22: the injected node runs on the next broadcast."""
    injected = {"node_type": "router", "event_triggers": ["NEXT"],
                "event_emissions": [{"signal_name": "EVOLVED"}]}  # fmt: skip
    workflow = {
        "Evolve": {"node_type": "tool", "event_triggers": ["START"],
                   "tool_name": "soe_inject_node", "output_field": "injected",
                   "parameters": {"workflow_name": "wf", "node_name": "New",
                                  "node_config_data": json.dumps(injected)},
                   "event_emissions": [{"signal_name": "NEXT"}]},
    }  # fmt: skip
    host = ScriptedHost()
    host.start({"wf": workflow}, ["START"])
    host.run()
    assert signals(host) == ["START", "NEXT", "EVOLVED"]
