"""soe-ai's backend writes on a running execution: context.save_context,
identity.save_identities / delete_identities, context_schema.save_context_schema /
delete_context_schema reach the execution as messages, checked first."""

from __future__ import annotations

import copy

import pytest

from soe_temporal.soe import OperationalValidationError, WorkflowValidationError, orchestrate

GATE = {
    "main": {
        "Check": {
            "node_type": "router",
            "event_triggers": ["CHECK"],
            "event_emissions": [
                {"signal_name": "ALLOWED", "condition": "{{ context.allowed }}"},
                {"signal_name": "DENIED", "condition": "{{ not context.allowed }}"},
            ],
        }
    }
}


def start(backends, signals=("CHECK",)) -> str:
    return orchestrate(GATE, "main", list(signals), {"allowed": False}, backends, None)


def test_a_saved_context_is_what_the_next_firing_reads(backends):
    """F-CTX-1: the saved context keeps the stored shape; a condition reads the latest
    value of the saved history (F-CTX-3)."""
    execution_id = start(backends)
    context = backends.context.get_context(execution_id)
    assert context["__operational__"]["signals"] == ["CHECK", "DENIED"]
    context["allowed"] = [*context["allowed"], True]
    backends.context.save_context(execution_id, context)
    assert backends.context.get_context(execution_id)["allowed"] == [False, True]

    from soe_temporal.soe import broadcast_signals

    broadcast_signals(execution_id, ["CHECK"], backends=backends)
    signals = backends.context.get_context(execution_id)["__operational__"]["signals"]
    assert signals[-2:] == ["CHECK", "ALLOWED"]


def test_a_saved_context_can_drop_fields(backends):
    execution_id = start(backends)
    context = backends.context.get_context(execution_id)
    del context["allowed"]
    backends.context.save_context(execution_id, context)
    assert "allowed" not in backends.context.get_context(execution_id)


def test_a_field_that_is_not_a_history_list_is_refused_naming_it(backends):
    execution_id = start(backends)
    context = backends.context.get_context(execution_id)
    context["allowed"] = True  # soe-ai stores lists; get_context() shows them
    with pytest.raises(WorkflowValidationError, match="field 'allowed' must be the list"):
        backends.context.save_context(execution_id, context)
    assert backends.context.get_context(execution_id)["allowed"] == [False]


def test_a_context_without_a_valid_operational_block_is_refused(backends):
    """F-VAL-14: a context the nodes could not run on is not saved."""
    execution_id = start(backends)
    context = backends.context.get_context(execution_id)
    del context["__operational__"]
    with pytest.raises(WorkflowValidationError, match="Missing '__operational__'"):
        backends.context.save_context(execution_id, context)


def test_the_main_execution_id_cannot_change(backends):
    execution_id = start(backends)
    context = copy.deepcopy(backends.context.get_context(execution_id))
    context["__operational__"]["main_execution_id"] = "someone-else"
    with pytest.raises(WorkflowValidationError, match="cannot change"):
        backends.context.save_context(execution_id, context)


def test_saving_into_an_unknown_execution_says_to_start_one(backends):
    with pytest.raises(OperationalValidationError, match="start one with orchestrate"):
        backends.context.save_context("no-such-id", {"__operational__": {}})
    with pytest.raises(ValueError):
        backends.identity.save_identities("no-such-id", {"a": "b"})


def test_identities_are_saved_read_and_deleted(backends):
    execution_id = start(backends)
    assert backends.identity.get_identities(execution_id) is None
    backends.identity.save_identities(execution_id, {"reviewer": "You review code."})
    assert backends.identity.get_identities(execution_id) == {"reviewer": "You review code."}
    assert backends.identity.get_identity(execution_id, "reviewer") == "You review code."
    assert backends.identity.delete_identities(execution_id) is True
    assert backends.identity.get_identities(execution_id) is None
    assert backends.identity.delete_identities(execution_id) is False


def test_identities_map_names_to_prompts(backends):
    execution_id = start(backends)
    with pytest.raises(WorkflowValidationError, match="system prompts"):
        backends.identity.save_identities(execution_id, {"reviewer": 3})


def test_a_context_schema_is_saved_read_and_deleted(backends):
    execution_id = start(backends)
    schema = {"summary": {"type": "string", "description": "one line"}}
    backends.context_schema.save_context_schema(execution_id, schema)
    assert backends.context_schema.get_context_schema(execution_id) == schema
    assert backends.context_schema.delete_context_schema(execution_id) is True
    assert backends.context_schema.get_context_schema(execution_id) is None
