"""The seed's "Cross-Execution Communication" in soe-ai's own API: a tool in one execution
signals another execution by its id. ``listener`` waits until ``EXTERNAL_EVENT`` arrives;
``notifier``'s tool node calls ``notify_other_workflow`` with the listener's id.

The workflows are ``examples/cross_execution.yaml``; the tool is the seed's. Written as for
soe-ai; only the two import lines say ``soe_temporal.soe`` instead of ``soe``. Run it with
``python examples/soe_ai_cross_execution.py``.

Inside a tool, ``broadcast_signals`` delivers and returns without waiting for the other
execution; the notifier's ``orchestrate`` returns once the listener has reacted too, as
soe-ai's does, so the listener is read right after it.
"""

from __future__ import annotations

from pathlib import Path

from soe_temporal.soe import broadcast_signals, create_all_nodes, orchestrate
from soe_temporal.soe.local_backends import create_in_memory_backends

cross_execution_config = (Path(__file__).parent / "cross_execution.yaml").read_text()

global_backends = create_in_memory_backends()


# In a tool function
def notify_other_workflow(other_execution_id: str) -> dict:
    broadcast_signals(
        execution_id=other_execution_id,
        signals=["EXTERNAL_EVENT"],
        backends=global_backends,
    )
    return {"notified": True}


def main() -> dict:
    backends = global_backends
    nodes, broadcast = create_all_nodes(
        backends, tools_registry={"notify_other_workflow": notify_other_workflow}
    )

    listener_id = orchestrate(
        config=cross_execution_config,
        initial_workflow_name="listener",
        initial_signals=["START"],
        initial_context={},
        backends=backends,
        broadcast_signals_caller=broadcast,
    )
    # The listener stops after LISTENING: nothing reacts to it until EXTERNAL_EVENT.

    notifier_id = orchestrate(
        config=cross_execution_config,
        initial_workflow_name="notifier",
        initial_signals=["START"],
        initial_context={"listener_id": listener_id},
        backends=backends,
        broadcast_signals_caller=broadcast,
    )

    # The notifier's tool has signalled the listener by its id.
    notifier = backends.context.get_context(notifier_id)
    listener = backends.context.get_context(listener_id)
    print("notifier receipt:", notifier["receipt"][-1])
    print("notifier signals:", notifier["__operational__"]["signals"])
    print("listener signals:", listener["__operational__"]["signals"])

    backends.cleanup_all()
    return {"notifier": notifier, "listener": listener}


if __name__ == "__main__":
    main()
