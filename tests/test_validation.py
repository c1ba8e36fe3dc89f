"""`validate_config` (soe-temporal validate): every error at once, warnings for what SOE
accepts but the author most likely did not mean, and each workflow's entry and exit
points. One behaviour per test; SOE_SPEC feature IDs in the docstrings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from soe_temporal import ConfigError, load_config
from soe_temporal.validation import (
    ConfigWarning,
    ValidationReport,
    format_report,
    validate_config,
)

from .conftest import EXAMPLES


def router(triggers: list[str], emits: list[str], **keys: Any) -> dict[str, Any]:
    return {
        "node_type": "router",
        "event_triggers": triggers,
        "event_emissions": [{"signal_name": signal} for signal in emits],
        **keys,
    }


def child(workflow: str, triggers: list[str], **keys: Any) -> dict[str, Any]:
    return {
        "node_type": "child",
        "event_triggers": triggers,
        "child_workflow_name": workflow,
        "child_initial_signals": ["START"],
        **keys,
    }


def kinds(report: ValidationReport) -> list[str]:
    return [warning.kind for warning in report.warnings]


# -- errors -----------------------------------------------------------------------------


def test_misspelt_required_key_error_says_did_you_mean():
    """F-VAL-5 rule 1 and F-CFG-7: the error for the missing key names the near miss."""
    config = {"w": {"n": {"node_type": "router", "event_trigers": ["A"], **_emits("B")}}}
    expected = (
        "Workflow 'w', node 'n': 'event_triggers' is required - specify which signals "
        "activate this router; did you mean 'event_triggers' instead of 'event_trigers'?"
    )
    with pytest.raises(ConfigError) as raised:
        load_config(config)
    assert str(raised.value) == expected
    assert validate_config(config).errors == [expected]


def test_misspelt_signal_name_in_an_emission_says_did_you_mean():
    """F-VAL-5 rule 6: the near miss is looked for among an emission's own keys."""
    config = {"w": {"n": router(["A"], [], event_emissions=[{"signal": "B"}])}}
    assert validate_config(config).errors == [
        "Workflow 'w', node 'n': Event emission at position 1 is missing 'signal_name'; "
        "did you mean 'signal_name' instead of 'signal'?"
    ]


def test_misspelt_required_key_is_an_error_not_also_a_warning():
    """F-VAL-6 rule 3: 'promt' is said once, in the error for the missing 'prompt'."""
    config = {"w": {"n": {"node_type": "llm", "event_triggers": ["A"], "promt": "Hi"}}}
    report = validate_config(config)
    assert len(report.errors) == 1 and "instead of 'promt'" in report.errors[0]
    assert report.warnings == []


def test_several_errors_are_reported_at_once_in_soe_order():
    """F-VAL-4..10: every failing rule, workflows and nodes in declaration order."""
    config = {
        "w": {
            "r": {"node_type": "router"},
            "t": {"node_type": "tool", "event_triggers": "GO", "tool_name": "x"},
        },
        "empty": {},
        "v": {"c": {"node_type": "child", "event_triggers": ["A"]}},
    }
    assert validate_config(config).errors == [
        "Workflow 'w', node 'r': 'event_triggers' is required - specify which signals "
        "activate this router",
        "Workflow 'w', node 'r': 'event_emissions' is required - specify which signals to "
        "emit based on conditions",
        "Workflow 'w', node 't': 'event_triggers' must be a list, e.g., [\"EXECUTE_TOOL\"]",
        "Workflow 'empty' is empty - at least one node is required",
        "Workflow 'v', node 'c': 'child_workflow_name' is required - specify which workflow "
        "to start as a child",
        "Workflow 'v', node 'c': 'child_initial_signals' is required - specify which "
        "signals to start the child workflow with",
    ]


def test_load_config_raises_the_first_of_several_errors():
    """F-VAL: validation stops at the first failing rule; load_config keeps doing so."""
    config = {"w": {"r": {"node_type": "router"}, "s": {"node_type": "robot"}}}
    with pytest.raises(ConfigError) as raised:
        load_config(config)
    assert str(raised.value) == validate_config(config).errors[0]
    assert len(validate_config(config).errors) == 3


def test_unreadable_config_is_one_error_not_an_exception(tmp_path: Path):
    """F-CFG-2: a file that is not YAML is reported, not raised."""
    path = tmp_path / "bad.yaml"
    path.write_text("w:\n  n: [unclosed\n")
    report = validate_config(path)
    assert len(report.errors) == 1
    assert report.errors[0].startswith(f"Invalid YAML configuration: {path}, line 3")
    assert report.warnings == [] and report.entry_signals == {}


# -- unknown keys -----------------------------------------------------------------------


def test_unknown_optional_key_is_a_warning_with_did_you_mean():
    """F-CFG-7: 'output_feild' is ignored, so the tool's result is stored nowhere."""
    node = {"node_type": "tool", "event_triggers": ["GO"], "tool_name": "t"}
    report = validate_config({"w": {"n": {**node, "output_feild": "result"}}})
    assert report.errors == []
    assert report.warnings == [
        ConfigWarning(
            "w",
            "n",
            "unknown key 'output_feild': did you mean 'output_field'? SOE ignores it "
            "(F-CFG-7); a tool node reads context_parameter_field, event_emissions, "
            "event_triggers, node_type, output_field, parameters, temporal, tool_name.",
            "unknown-key",
        )
    ]


def test_unknown_key_with_no_close_match_is_still_a_warning():
    """F-CFG-7: a key SOE does not read is named even when it resembles none."""
    report = validate_config({"w": {"n": router(["A"], ["B"], colour="blue")}})
    assert [str(w) for w in report.warnings] == [
        "Workflow 'w', node 'n': unknown key 'colour': SOE ignores it (F-CFG-7); a router "
        "node reads event_emissions, event_triggers, node_type, temporal."
    ]


def test_unknown_key_on_an_llm_node_is_said_to_reach_call_llm():
    """F-API-5: other keys of llm and agent nodes are passed to call_llm; model and
    temperature are model options the bundled providers read, not unknown keys."""
    node = {"node_type": "agent", "event_triggers": ["A"], "prompt": "Go", "model": "m"}
    report = validate_config({"w": {"n": {**node, "temperature": 0, "available_tools": ["x"]}}})
    assert [(w.node, w.kind) for w in report.warnings] == [("n", "unknown-key")]
    assert "'available_tools'" in report.warnings[0].message
    assert "passes it to call_llm" in report.warnings[0].message


def test_when_instead_of_condition_in_an_emission_is_a_warning():
    """F-CFG-7 and F-SIG-1: an emission without `condition` is unconditional."""
    emission = {"signal_name": "BIG", "when": "{{ context.x > 1 }}"}
    report = validate_config({"w": {"n": router(["A"], [], event_emissions=[emission])}})
    assert report.errors == []
    assert [str(w) for w in report.warnings] == [
        "Workflow 'w', node 'n': event_emissions[0] ('BIG') has unknown key 'when': SOE "
        "ignores it (F-CFG-7); an emission reads condition, signal_name. With no "
        "condition the signal is always emitted (F-SIG-1)."
    ]


def test_unknown_top_level_key_of_the_combined_format_is_a_warning():
    """F-CFG-5: keys other than the three sections are ignored ('identites' loses them)."""
    config = {"workflows": {"w": {"n": router(["A"], ["B"])}}, "identites": {"x": "y"}}
    report = validate_config(config)
    assert report.errors == []
    assert [(w.workflow, w.kind) for w in report.warnings] == [(None, "unknown-section")]
    assert "did you mean 'identities'?" in report.warnings[0].message


def test_internal_node_types_are_not_checked():
    """F-CFG-9: a node type starting with '_' skips validation, and warnings too."""
    config = {"w": {"n": router(["A"], ["B"]), "x": {"node_type": "_mine", "anything": 1}}}
    assert validate_config(config) == ValidationReport(
        entry_signals={"w": ["A"]}, exit_signals={"w": ["B"]}
    )


# -- signals ----------------------------------------------------------------------------


def test_trigger_nothing_emits_is_listed_as_an_entry_point():
    """F-EXEC-3: APPROVED is sent from outside; listing it is information, not a warning."""
    config = {
        "w": {
            "Start": router(["START"], ["WAITING"]),
            "Approve": router(["APPROVED"], ["DONE"]),
            "Wait": router(["WAITING"], ["ASKED"]),
        }
    }
    report = validate_config(config)
    assert report.entry_signals == {"w": ["START", "APPROVED"]}
    assert report.errors == [] and report.warnings == []


def test_emitted_signal_nothing_triggers_is_an_exit_point_not_a_warning():
    """F-EXEC-3: a workflow ends with signals nothing triggers on (DONE); they are listed."""
    report = validate_config({"w": {"n": router(["GO"], ["DONE", "AUDIT"])}})
    assert report.exit_signals == {"w": ["DONE", "AUDIT"]}
    assert report.warnings == []


def test_emitted_but_untriggered_signal_close_to_an_unemitted_trigger_is_a_warning():
    """F-SIG-1, F-EXEC-4: APROVED triggers nothing, and APPROVED, which a node waits for,
    is emitted by nothing: a typo that would leave the execution idle."""
    config = {
        "w": {
            "Check": router(["START"], ["APROVED"]),
            "Approve": router(["APPROVED"], ["DONE"]),
        }
    }
    report = validate_config(config)
    assert report.warnings == [
        ConfigWarning(
            "w",
            "Check",
            "signal 'APROVED' triggers no node of this workflow: did you mean 'APPROVED'? "
            "Node(s) 'Approve' trigger on 'APPROVED', which nothing in the workflow emits.",
            "signal-typo",
        )
    ]
    assert report.exit_signals == {"w": ["DONE"]}


def test_signal_differing_only_in_case_is_a_typo_warning():
    """Signal names are case-sensitive (F-EXEC-4): 'done' does not trigger 'DONE'."""
    config = {"w": {"a": router(["GO"], ["done"]), "b": router(["DONE"], ["END"])}}
    assert kinds(validate_config(config)) == ["signal-typo"]


def test_child_signal_listed_in_signals_to_parent_is_not_warned():
    """F-CHILD-8: a signal the parent's child node forwards is consumed by the parent."""
    config = {
        "parent": {
            "Spawn": child("worker", ["GO"], signals_to_parent=["WORKER_DONE"]),
            "Collect": router(["WORKER_DONE"], ["ALL_DONE"]),
        },
        "worker": {"Work": router(["START"], ["WORKER_DONE"])},
    }
    report = validate_config(config)
    assert report.warnings == []
    assert report.exit_signals == {"parent": ["ALL_DONE"]}


def test_signal_forwarded_from_a_child_is_not_an_entry_point_of_the_parent():
    """F-CHILD-8: WORKER_DONE arrives in the parent from its child, not from outside."""
    config = {
        "parent": {
            "Spawn": child("worker", ["GO"], signals_to_parent=["WORKER_DONE"]),
            "Collect": router(["WORKER_DONE"], ["ALL_DONE"]),
        },
        "worker": {"Work": router(["START"], ["WORKER_DONE"])},
    }
    assert validate_config(config).entry_signals == {"parent": ["GO"], "worker": ["START"]}


def test_child_signal_its_parent_does_not_forward_is_warned():
    """F-CHILD-8: the parent forwards WORKER_DONE, but the child emits WORKER_DNOE, which
    goes nowhere."""
    config = {
        "parent": {
            "Spawn": child("worker", ["GO"], signals_to_parent=["WORKER_DONE"]),
            "Collect": router(["WORKER_DONE"], ["ALL_DONE"]),
        },
        "worker": {"Work": router(["START"], ["WORKER_DNOE"])},
    }
    report = validate_config(config)
    assert [(w.workflow, w.node, w.kind) for w in report.warnings] == [
        ("worker", "Work", "signal-lost")
    ]
    assert report.warnings[0].message.endswith("Did you mean 'WORKER_DONE'?")


def test_fire_and_forget_child_signals_are_exit_points():
    """F-CHILD-13: with no signals_to_parent the parent never hears from the child, on
    purpose; what the child emits are its exit points."""
    config = {
        "parent": {"Launch": child("background", ["GO"])},
        "background": {"Run": router(["START"], ["BACKGROUND_DONE"])},
    }
    report = validate_config(config)
    assert report.warnings == []
    assert report.exit_signals == {"background": ["BACKGROUND_DONE"]}


def test_child_workflow_the_config_does_not_define_is_warned():
    """F-VAL-12: the child fails when it starts (it may still be injected at run time)."""
    config = {
        "parent": {"Spawn": child("wroker", ["GO"])},
        "worker": {"Work": router(["START"], ["DONE"])},
    }
    report = validate_config(config)
    assert kinds(report) == ["child-workflow-missing"]
    assert report.warnings[0].message.endswith("Did you mean 'worker'?")


def test_child_initial_signal_that_triggers_nothing_in_the_child_is_warned():
    """F-CHILD-5: the child is started with signals its workflow must trigger on."""
    config = {
        "parent": {"Spawn": child("worker", ["GO"], child_initial_signals=["BEGIN"])},
        "worker": {"Work": router(["START"], ["DONE"])},
    }
    report = validate_config(config)
    assert [(w.workflow, w.node, w.kind) for w in report.warnings] == [
        ("parent", "Spawn", "child-signal-unused")
    ]


def test_llm_failure_signal_is_emitted_by_its_node():
    """F-LLM-9: llm_failure_signal is emitted on failure, so the node it triggers is no
    entry point."""
    llm = {"node_type": "llm", "event_triggers": ["GO"], "prompt": "Hi"}
    config = {
        "w": {"Ask": {**llm, "llm_failure_signal": "FAILED"}, "Fix": router(["FAILED"], ["FIXED"])}
    }
    assert validate_config(config).entry_signals == {"w": ["GO"]}


# -- examples and the report --------------------------------------------------------------


def test_approval_example_is_valid_and_lists_its_entry_points():
    """The seed's approval example: START, APPROVED and REJECTED enter from outside."""
    report = validate_config(EXAMPLES / "approval.yaml")
    assert report == ValidationReport(
        entry_signals={"waiting_workflow": ["START", "APPROVED", "REJECTED"]},
        exit_signals={"waiting_workflow": ["WAITING_FOR_APPROVAL", "COMPLETE"]},
    )


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda path: path.name)
def test_every_example_validates_with_no_errors_and_no_warnings(path: Path):
    report = validate_config(path)
    assert (report.errors, report.warnings) == ([], [])
    assert report.entry_signals


def test_format_report_lists_errors_then_warnings_then_entry_and_exit_points():
    config = {
        "w": {
            "bad": {"node_type": "router", "event_triggers": ["GO"]},
            "n": router(["GO"], ["DONE"], colour="blue"),
        }
    }
    assert format_report(validate_config(config)).splitlines() == [
        "error: Workflow 'w', node 'bad': 'event_emissions' is required - specify which "
        "signals to emit based on conditions",
        "warning: Workflow 'w', node 'n': unknown key 'colour': SOE ignores it (F-CFG-7); "
        "a router node reads event_emissions, event_triggers, node_type, temporal.",
        "entry points (triggers nothing in the workflow emits):",
        "  w: GO",
        "exit points (emitted, and no node of the workflow triggers on them):",
        "  w: DONE",
        "invalid: 1 error, 1 warning",
    ]


def _emits(signal: str) -> dict[str, Any]:
    return {"event_emissions": [{"signal_name": signal}]}
