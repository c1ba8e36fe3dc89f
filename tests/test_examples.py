"""Every example in examples/ runs as documented, on the time-skipping server."""

from __future__ import annotations

from examples.tools import TOOLS
from soe_temporal import load_config
from soe_temporal.testing import SoeTestEnvironment

from .conftest import EXAMPLES


def test_every_example_config_loads():
    for path in sorted(EXAMPLES.glob("*.yaml")):
        assert load_config(path).workflows, path


async def _run(path: str, workflow: str, signals: list[str], context: dict) -> dict:
    async with SoeTestEnvironment(tools_registry=TOOLS) as env:
        eid = await env.soe.orchestrate(EXAMPLES / path, workflow, signals, context)
        return await env.soe.get_context(eid)


async def test_greeting_legacy_format_f_cfg_4():
    context = await _run("greeting.yaml", "greeting_flow", ["BEGIN"], {})
    assert context["__operational__"]["signals"] == ["BEGIN", "HELLO_SENT"]


async def test_depth_first_example_f_exec_5():
    context = await _run("depth_first.yaml", "demo", ["GO"], {})
    assert context["__operational__"]["signals"] == ["GO", "X", "Z", "Y"]
    assert list(context["__operational__"]["nodes"]) == ["First", "OnX", "Second"]


async def test_gate_example_emits_every_passing_emission_f_router_3():
    big = await _run("gate.yaml", "gate", ["BEGIN"], {"amount": 1200})
    small = await _run("gate.yaml", "gate", ["BEGIN"], {"amount": 20})
    assert big["__operational__"]["signals"] == ["BEGIN", "BIG", "AUDIT"]
    assert small["__operational__"]["signals"] == ["BEGIN", "SMALL", "AUDIT"]


async def test_notify_example_f_tool_5():
    context = await _run(
        "notify.yaml", "notify", ["READY"], {"customer": {"email": "a@b.c"}, "order_id": 7}
    )
    assert context["mail_receipt"] == [
        {"accepted": True, "to": "a@b.c", "subject": "Order 7", "urgent": True}
    ]
    assert context["__operational__"]["signals"] == ["READY", "MAIL_SENT"]


async def test_join_example_f_pat_1_waits_for_both():
    async with SoeTestEnvironment() as env:
        eid = await env.soe.orchestrate(EXAMPLES / "join.yaml", "join", ["LEFT_DONE"], {})
        assert (await env.soe.get_context(eid))["__operational__"]["signals"] == ["LEFT_DONE"]
        await env.soe.broadcast_signals(eid, ["RIGHT_DONE"])
        signals = (await env.soe.get_context(eid))["__operational__"]["signals"]
        assert signals == ["LEFT_DONE", "RIGHT_DONE", "BOTH_DONE"]


async def test_loop_limit_example_f_pat_2_runs_exactly_three_times():
    context = await _run("loop_limit.yaml", "loop", ["START"], {})
    assert context["__operational__"]["nodes"] == {"Loop": 3}
    assert context["__operational__"]["signals"] == ["START", "AGAIN", "AGAIN", "LOOP_DONE"]


async def test_sum_readings_example_f_tool_6():
    context = await _run("sum_readings.yaml", "readings", ["START"], {"pair": '{"a": 4, "b": 9}'})
    assert context["reading"] == [13]
    assert context["sum"] == [13]
    assert context["__operational__"]["signals"] == ["START", "ADDED", "SUMMED"]


async def test_approval_example_with_the_examples_tools():
    async with SoeTestEnvironment(tools_registry=TOOLS) as env:
        eid = await env.soe.orchestrate(
            EXAMPLES / "approval.yaml", "waiting_workflow", ["START"], {}
        )
        await env.soe.broadcast_signals(eid, ["APPROVED"])
        context = await env.soe.get_context(eid)
        assert context["final_result"] == [{"status": "approved", "next_step": "order placed"}]
