"""The seed's "Versioning Strategies", strategy 3 (context migration), and its "Execution
IDs" snippets, in soe-ai's own API: an execution of version 1 waits for approval; version 2
renames ``request`` to ``purchase_request`` and approves on ``USER_APPROVED``. The old
execution's context is read, migrated, and a version-2 execution is started from it with
the custom ``RESUME`` signal; an external system then approves it by its id.

``get_context`` returns SOE's stored context (SOE_SPEC F-CTX-1): every ordinary field is the
list of the values written to it, oldest first, next to ``__operational__``; the migration
takes each field's latest value (``[-1]``). Written as for soe-ai; only the two import lines
say ``soe_temporal.soe`` instead of ``soe``. Run it with
``python examples/soe_ai_migration.py``.
"""

from __future__ import annotations

from soe_temporal.soe import broadcast_signals, create_all_nodes, orchestrate
from soe_temporal.soe.local_backends import create_in_memory_backends

workflow_v1 = """
main_workflow:
  Intake:
    node_type: tool
    event_triggers: [START]
    tool_name: await_approval
    output_field: current_step
    event_emissions:
      - signal_name: WAITING_FOR_APPROVAL

  HandleApproval:
    node_type: router
    event_triggers: [APPROVED]
    event_emissions:
      - signal_name: PROCESS_APPROVED

  ProcessApproved:
    node_type: tool
    event_triggers: [PROCESS_APPROVED]
    tool_name: place_order
    parameters:
      item: "{{ context.request }}"
    output_field: final_result
"""

new_workflow_v2 = """
main_workflow:
  Intake:
    node_type: tool
    event_triggers: [START]
    tool_name: await_approval
    output_field: current_step
    event_emissions:
      - signal_name: WAITING_FOR_APPROVAL

  # A migrated execution starts here: it was already waiting for approval.
  Resume:
    node_type: router
    event_triggers: [RESUME]
    event_emissions:
      - signal_name: WAITING_FOR_APPROVAL

  HandleApproval:
    node_type: router
    event_triggers: [USER_APPROVED]
    event_emissions:
      - signal_name: PROCESS_APPROVED

  ProcessApproved:
    node_type: tool
    event_triggers: [PROCESS_APPROVED]
    tool_name: place_order
    parameters:
      item: "{{ context.purchase_request }}"
    output_field: final_result
"""

FIELD_RENAMES = {"request": "purchase_request"}  # v1 name -> v2 name


def await_approval() -> str:
    return "awaiting_approval"


def place_order(item: str) -> dict:
    return {"status": "approved", "ordered": item}


def migrate_context_v1_to_v2(old_context: dict) -> dict:
    """Each ordinary field's latest value, under its v2 name; ``__operational__`` and
    other ``__`` fields stay behind (the new execution starts its own)."""
    return {
        FIELD_RENAMES.get(name, name): history[-1]
        for name, history in old_context.items()
        if not name.startswith("__")
    }


def main() -> dict:
    backends = create_in_memory_backends()
    nodes, broadcast = create_all_nodes(
        backends,
        tools_registry={"await_approval": await_approval, "place_order": place_order},
    )

    old_execution_id = orchestrate(
        config=workflow_v1,
        initial_workflow_name="main_workflow",
        initial_signals=["START"],
        initial_context={"request": "laptop"},
        backends=backends,
        broadcast_signals_caller=broadcast,
    )

    # Inspect an execution
    context = backends.context.get_context(old_execution_id)
    print("old current_step:", context["current_step"])
    # The guide prints __operational__["active_signals"], which soe-ai 0.1.4 does not have.
    print("old signals:", context["__operational__"]["signals"])

    # Migrate an execution to a new workflow version
    old_context = backends.context.get_context(old_execution_id)

    migrated_context = migrate_context_v1_to_v2(old_context)
    print("migrated context:", migrated_context)

    new_execution_id = orchestrate(
        config=new_workflow_v2,
        initial_workflow_name="main_workflow",
        initial_signals=["RESUME"],  # Custom signal for migrations
        initial_context=migrated_context,
        backends=backends,
        broadcast_signals_caller=broadcast,
    )

    # External system sends a signal
    broadcast_signals(
        execution_id=new_execution_id,
        signals=["USER_APPROVED"],
        backends=backends,
    )

    # The old execution is left as it is (soe-ai has no call to complete or archive one):
    # nothing will signal it again.
    new_context = backends.context.get_context(new_execution_id)
    print("new signals:", new_context["__operational__"]["signals"])
    print("new final_result:", new_context["final_result"][-1])
    print("old final_result:", backends.context.get_context(old_execution_id).get("final_result"))

    backends.cleanup_all()
    return {"old": old_context, "new": new_context}


if __name__ == "__main__":
    main()
