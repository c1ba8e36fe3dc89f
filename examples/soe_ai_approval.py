"""The seed's "External Triggers and Continuation" in soe-ai's own API: start an approval
workflow, let it stop, approve it later with broadcast_signals.

Written as for soe-ai; only the two import lines say ``soe_temporal.soe`` instead of
``soe``. Run it with ``python examples/soe_ai_approval.py``.
"""

from __future__ import annotations

from pathlib import Path

from soe_temporal.soe import broadcast_signals, create_all_nodes, orchestrate
from soe_temporal.soe.local_backends import create_in_memory_backends

waiting_workflow = (Path(__file__).parent / "approval.yaml").read_text()


def finalize_approved() -> dict:
    return {"status": "approved", "next_step": "order placed"}


def notify_rejection() -> dict:
    return {"status": "rejected", "notified": True}


def main() -> dict:
    backends = create_in_memory_backends()
    nodes, broadcast = create_all_nodes(
        backends,
        tools_registry={
            "finalize_approved": finalize_approved,
            "notify_rejection": notify_rejection,
        },
    )

    # Start the workflow
    execution_id = orchestrate(
        config=waiting_workflow,
        initial_workflow_name="waiting_workflow",
        initial_signals=["START"],
        initial_context={"request": "laptop"},
        backends=backends,
        broadcast_signals_caller=broadcast,
    )
    # Execution stops after emitting WAITING_FOR_APPROVAL (no nodes listen for it yet)

    # Later... external system sends approval
    broadcast_signals(
        execution_id=execution_id,
        signals=["APPROVED"],
        backends=backends,
    )
    # Workflow resumes and runs to completion

    context = backends.context.get_context(execution_id)
    print("signals:", context["__operational__"]["signals"])
    print("final_result:", context["final_result"][-1])
    backends.cleanup_all()
    return context


if __name__ == "__main__":
    main()
