"""Payload shapes and what travels with an execution besides them (its memo)."""

import json

from soe_temporal.engine.state import EngineSettings
from soe_temporal.temporal.dataclass_json import DataclassJSONEncoder
from soe_temporal.temporal.payloads import (
    MEMO_MAIN_ID,
    MEMO_PARENT_ID,
    MEMO_WORKFLOW,
    SoeWorkflowInput,
    compact_parent_link,
    complete_parent_link,
    lineage_from_memo,
    lineage_memo,
)


def test_a_child_s_memo_holds_only_what_temporal_does_not_record():
    """A fan-out's children each carry a memo: the main and parent ids go in only where
    they differ from the workflow's Temporal root and parent."""
    memo = lineage_memo(
        "worker", "root", "root", temporal_root_id="root", temporal_parent_id="root"
    )
    assert memo == {MEMO_WORKFLOW: "worker"}
    assert lineage_from_memo("root/Spawn-1", memo, "root", "root") == ("root", "root")


def test_lineage_is_read_back_where_temporal_records_no_root():
    grandchild = lineage_memo("leaf", "root", "root/A-1", "root/A-1", "root/A-1")
    assert grandchild == {MEMO_WORKFLOW: "leaf", MEMO_MAIN_ID: "root"}
    assert lineage_from_memo("root/A-1/B-1", grandchild, None, "root/A-1") == ("root", "root/A-1")
    child = lineage_memo("worker", "root", "root", "root", "root")
    assert lineage_from_memo("root/A-1", child, None, "root") == ("root", "root")


def test_a_root_s_memo_and_memos_written_before_carry_their_own_lineage():
    root = lineage_memo("main", "r", None, temporal_root_id="r", temporal_parent_id=None)
    assert lineage_from_memo("r", root, "r", None) == ("r", None)
    older = {MEMO_WORKFLOW: "main", MEMO_MAIN_ID: "m", MEMO_PARENT_ID: "p"}
    assert lineage_from_memo("r", older, "r", None) == ("m", "p")


def test_f_ops_10_a_child_s_parent_link_travels_compact_and_is_read_back_whole():
    link = {
        "parent_execution_id": "root/A-1",
        "signals_to_parent": ["DONE"],
        "context_updates_to_parent": [],
        "main_execution_id": "root",
    }
    compact = compact_parent_link(link, temporal_root_id="root")
    assert compact == {"signals_to_parent": ["DONE"]}
    completed = complete_parent_link(compact, parent_id="root/A-1", temporal_root_id="root")
    assert list(completed.items()) == list(link.items())  # SOE's keys, in SOE's order


def test_a_main_id_that_is_not_the_temporal_root_travels_in_the_link():
    link = {"parent_execution_id": "p", "signals_to_parent": [],
            "context_updates_to_parent": ["x"], "main_execution_id": "elsewhere"}  # fmt: skip
    compact = compact_parent_link(link, temporal_root_id="p")
    assert compact == {"context_updates_to_parent": ["x"], "main_execution_id": "elsewhere"}
    assert complete_parent_link(compact, "p", "p") == link


def test_a_start_leaves_out_the_default_limits_and_reads_them_back():
    start = SoeWorkflowInput(workflow_name="w")
    start.settings = EngineSettings(cascade_limit=50)
    assert (start.cascade_limit, start.agent_iteration_limit, start.max_state_bytes) == (
        50,
        None,
        None,
    )
    assert start.settings == EngineSettings(cascade_limit=50)
    written = json.loads(json.dumps(start, cls=DataclassJSONEncoder))
    assert "agent_iteration_limit" not in written and written["cascade_limit"] == 50
