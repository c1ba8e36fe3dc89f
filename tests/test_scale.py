"""Scale: a fan-out through a fan_out_field on the embedded dev server, and a 9,000-router
cascade in one workflow task.

The fan-out here has 200 children, which keeps `make test` short; `make bench`
(benchmarks/bench_fanout.py) runs the same fan-out with 1,000 children and checks every
tree it times."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

from benchmarks.bench_fanout import fan_out_config, history_events
from soe_temporal import SoeClient, create_worker, load_config

from .conftest import DevServerInfo

CHILDREN = 200


async def test_f_child_6_a_fan_out_of_200_children_completes(dev_server: DevServerInfo, capsys):
    client = dev_server.server.client
    queue = f"scale-{uuid.uuid4().hex[:6]}"
    store = dev_server.payloads
    soe = SoeClient(client, queue, wait_timeout=timedelta(minutes=15), payload_store=store)
    config = load_config(fan_out_config(CHILDREN))
    # Room in the workflow cache for the whole tree: a full cache stalls the worker.
    async with create_worker(
        client,
        queue,
        max_concurrent_workflow_tasks=200,
        max_cached_workflows=2 * CHILDREN,
        payload_store=store,
    ):
        started = time.perf_counter()
        eid = await soe.orchestrate(config, "parent", ["BEGIN"], {"items": list(range(CHILDREN))})
        seconds = time.perf_counter() - started
        context = await soe.get_context(eid)
        described = await soe.describe(eid)
        child = await soe.get_context(described["children"][-1])
    signals = context["__operational__"]["signals"]
    assert signals.count("DONE") == CHILDREN and signals[-1] == "ALL_DONE"
    assert len(described["children"]) == CHILDREN
    assert described["children"][-1] == f"{eid}/SpawnWorkers-1-{CHILDREN}"
    assert child["item"] == [CHILDREN - 1]
    events, runs = await history_events(client, eid)
    with capsys.disabled():
        print(
            f"\n{CHILDREN}-child fan-out: {seconds:.0f} s, parent history {events} events in {runs} run(s)"
        )


async def test_f_exec_5_a_9000_router_chain_runs_in_one_workflow_task():
    """A broadcast costs the nodes it triggers (engine/broadcast.py): a cascade of 9,000
    routers, close to the cascade limit, finishes in the workflow task it starts in, far
    inside temporalio's 2 s deadlock limit."""
    from temporalio.api.enums.v1 import EventType

    from benchmarks.bench_engine import router_chain
    from soe_temporal.testing import SoeTestEnvironment

    nodes = 9_000
    async with SoeTestEnvironment() as env:
        eid = await env.soe.orchestrate(router_chain(nodes), "chain", ["S0"], {})
        context = await env.soe.get_context(eid)
        history = await env.client.get_workflow_handle(eid).fetch_history()
    assert context["__operational__"]["nodes"][f"R{nodes - 1}"] == 1
    kinds = [event.event_type for event in history.events]
    assert EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED not in kinds
    assert kinds.count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) <= 2  # the cascade, the wait
