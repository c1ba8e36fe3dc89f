"""The tree-wide idle walk (DESIGN: tree-wide idle; F-EXEC-11: a call returns when its
whole cascade, children included, has finished), against a scripted tree of executions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from soe_temporal.client.tree import wait_for_idle_tree
from soe_temporal.temporal.payloads import IdleReport, WaitRequest


def failure(node: str, at: str = "", handled: bool = False, cascade: int = 1) -> dict[str, Any]:
    return {"workflow_name": "wf", "node_name": node, "error": f"{node} broke",
            "cascade": cascade, "handled": handled, "at": at}  # fmt: skip


class ScriptedTree:
    """Executions, their children and progress counters, answering as SoeWorkflow does.

    ``on_ask`` runs before an execution answers, so a test can change the tree between
    and during walks (a child waking its parent, say)."""

    def __init__(self, children: dict[str, list[str]]) -> None:
        self.children = children
        self.progress = {eid: 1 for eid in children}
        self.calls = {eid: 0 for eid in children}
        self.failures: dict[str, list[dict[str, Any]]] = {eid: [] for eid in children}
        self.busy: set[str] = set()
        self.closed: set[str] = set()
        self.on_ask: Callable[[str], None] = lambda eid: None
        self.asked: list[tuple[str, str, WaitRequest | None]] = []

    async def wait_idle(self, execution_id: str, request: WaitRequest) -> IdleReport | None:
        self.asked.append(("wait", execution_id, request))
        self.on_ask(execution_id)
        if execution_id in self.closed:
            return None
        self.busy.discard(execution_id)  # the wait returns once it is idle
        failures = [f for f in self.failures[execution_id] if not f["handled"]]
        if request.cascade is not None:
            failures = [f for f in failures if f["cascade"] == request.cascade]
        elif request.since is not None:
            failures = [f for f in failures if f["at"] >= request.since]
        else:
            failures = []
        return IdleReport(request.cascade, True, progress=self.progress[execution_id],
                          failures=failures, children=self.children[execution_id],
                          calls=self.calls[execution_id])  # fmt: skip

    async def status(self, execution_id: str) -> dict[str, Any] | None:
        self.asked.append(("status", execution_id, None))
        self.on_ask(execution_id)
        if execution_id in self.closed:
            return None
        return {"idle": execution_id not in self.busy, "progress": self.progress[execution_id],
                "failures": self.failures[execution_id],
                "children": self.children[execution_id],
                "calls": self.calls[execution_id]}  # fmt: skip

    def walks(self) -> int:
        """How many walks asked the root."""
        return sum(1 for _, eid, _ in self.asked if eid == "root")


async def test_a_lone_execution_is_idle_after_one_wait():
    tree = ScriptedTree({"root": []})
    tree.failures["root"] = [failure("A", cascade=1), failure("B", cascade=2)]
    failures = await wait_for_idle_tree(tree, "root", cascade=1, since=None)
    assert tree.walks() == 1
    assert [f["node_name"] for f in failures] == ["A"]
    assert failures[0]["execution_id"] == "root"


def asks(tree: ScriptedTree) -> dict[str, int]:
    counted: dict[str, int] = {}
    for _, eid, _ in tree.asked:
        counted[eid] = counted.get(eid, 0) + 1
    return counted


async def test_a_tree_is_idle_when_its_parents_show_the_walk_s_progress_again():
    """One walk over every execution, then a second look at those with children only."""
    tree = ScriptedTree({"root": ["c1", "c2"], "c1": ["g1"], "c2": [], "g1": []})
    await wait_for_idle_tree(tree, "root", cascade=1, since="")
    assert asks(tree) == {"root": 2, "c1": 2, "c2": 1, "g1": 1}


async def test_a_fan_out_is_walked_once():
    children = [f"c{i}" for i in range(100)]
    tree = ScriptedTree({"root": children, **{c: [] for c in children}})
    await wait_for_idle_tree(tree, "root", cascade=1, since="")
    assert asks(tree) == {"root": 2, **{c: 1 for c in children}}


async def test_a_child_that_wakes_its_parent_after_it_was_seen_idle_means_another_walk():
    """The parent is walked again; the child, a leaf seen idle whose parent has started no
    call since (nothing else could wake it), is not asked again."""
    tree = ScriptedTree({"root": ["child"], "child": []})
    woke = []

    def child_signals_parent(eid: str) -> None:
        if eid == "child" and not woke:
            woke.append(eid)
            tree.progress["root"] += 1  # the root already answered idle in this walk

    tree.on_ask = child_signals_parent
    await wait_for_idle_tree(tree, "root", cascade=1, since="")
    # The second look at the root saw the new progress, so the tree was walked again.
    assert [kind for kind, eid, _ in tree.asked if eid == "root"] == [
        "wait",
        "status",
        "wait",
        "status",
    ]
    assert asks(tree)["child"] == 1


async def test_a_leaf_is_asked_again_when_its_parent_started_calls_since():
    """A tool of the parent may have signalled the leaf after it was seen idle."""
    tree = ScriptedTree({"root": ["child"], "child": []})
    woke = []

    def parent_runs_a_tool(eid: str) -> None:
        if eid == "child" and not woke:
            woke.append(eid)
            tree.progress["root"] += 1
            tree.calls["root"] += 1

    tree.on_ask = parent_runs_a_tool
    await wait_for_idle_tree(tree, "root", cascade=1, since="")
    assert asks(tree)["child"] == 2


async def test_a_fan_out_whose_children_keep_waking_the_parent_asks_each_child_once():
    children = [f"c{i}" for i in range(50)]
    tree = ScriptedTree({"root": children, **{c: [] for c in children}})
    tree.on_ask = lambda eid: tree.progress.__setitem__(
        "root", tree.progress["root"] + (eid != "root")
    )
    await wait_for_idle_tree(tree, "root", cascade=1, since="")
    assert tree.walks() > 2
    assert {asks(tree)[c] for c in children} == {1}


async def test_a_busy_descendant_is_waited_for_not_just_asked():
    tree = ScriptedTree({"root": ["child"], "child": []})
    tree.busy.add("child")
    await wait_for_idle_tree(tree, "root", cascade=1, since="2026-01-01")
    waits = [request for kind, eid, request in tree.asked if kind == "wait" and eid == "child"]
    assert waits and waits[0] == WaitRequest(since="2026-01-01")


async def test_closed_executions_of_the_tree_are_skipped():
    tree = ScriptedTree({"root": ["gone", "here"], "gone": ["never"], "here": [], "never": []})
    tree.closed.add("gone")
    await wait_for_idle_tree(tree, "root", cascade=1, since="")
    assert not any(eid == "never" for _, eid, _ in tree.asked)


async def test_failures_below_the_root_are_those_unhandled_since_the_call():
    tree = ScriptedTree({"root": ["child"], "child": []})
    tree.failures["child"] = [
        failure("Old", at="2026-01-01T00:00:00"),
        failure("New", at="2026-01-02T00:00:00"),
        failure("Handled", at="2026-01-02T00:00:00", handled=True),
    ]
    failures = await wait_for_idle_tree(tree, "root", cascade=1, since="2026-01-02T00:00:00")
    assert [(f["execution_id"], f["node_name"]) for f in failures] == [("child", "New")]


async def test_a_lone_execution_that_already_answered_is_asked_nothing_more():
    """A broadcast waits for idle itself: its report is the whole walk of a childless tree."""
    tree = ScriptedTree({"root": []})
    report = IdleReport(1, True, progress=3, failures=[failure("A")], children=[])
    failures = await wait_for_idle_tree(tree, "root", 1, "", root_report=report)
    assert tree.asked == []
    assert [f["node_name"] for f in failures] == ["A"]


async def test_with_children_the_root_s_report_saves_the_wait_for_it():
    tree = ScriptedTree({"root": ["child"], "child": []})
    report = IdleReport(1, True, progress=1, children=["child"])
    await wait_for_idle_tree(tree, "root", 1, "", root_report=report)
    assert [kind for kind, eid, _ in tree.asked if eid == "root"] == ["status"]


async def test_a_parent_that_wakes_a_child_seen_idle_moves_its_own_progress_so_the_walk_repeats():
    """A childless execution gets no second look unless a call made by its parent (a tool
    that signals it) may have woken it: that call moves the parent's counters."""
    tree = ScriptedTree({"root": ["child"], "child": []})
    woke = []

    def parent_signals_child(eid: str) -> None:
        if eid == "root" and tree.asked[-1][0] == "status" and not woke:
            woke.append(eid)
            tree.progress["root"] += 1
            tree.calls["root"] += 1
            tree.busy.add("child")

    tree.on_ask = parent_signals_child
    await wait_for_idle_tree(tree, "root", cascade=1, since="")
    assert [kind for kind, eid, _ in tree.asked if eid == "child"] == ["status", "status", "wait"]


async def test_a_parent_that_cannot_answer_a_query_at_once_is_waited_for_not_walked_again():
    """The second look asks a quick status; without one (a busy or slow worker), it waits."""
    tree = ScriptedTree({"root": ["child"], "child": []})
    real_status = tree.status

    async def no_quick_status(execution_id: str):
        answer = await real_status(execution_id)
        return None if execution_id == "root" else answer

    tree.status = no_quick_status  # type: ignore[method-assign]
    await wait_for_idle_tree(tree, "root", cascade=1, since="")
    assert [kind for kind, eid, _ in tree.asked if eid == "root"] == ["wait", "status", "wait"]
    assert asks(tree)["child"] == 1
