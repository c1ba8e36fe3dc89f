"""The seed's "Versioning Strategies", strategy 1 (context-based routing), in soe-ai's own
API: ``entry_workflow`` reads ``api_version`` from the context and delegates to the child
workflow ``processor_v1`` or ``processor_v2``; with no ``api_version`` the latest (v2) runs.

The config is the seed's YAML, as in ``examples/versioning.yaml``. ``call_llm`` is a
deterministic stand-in for a model with soe-ai's ``CallLlm`` signature. Written as for
soe-ai; only the two import lines say ``soe_temporal.soe`` instead of ``soe``. Run it with
``python examples/soe_ai_versioning.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

from soe_temporal.soe import create_all_nodes, orchestrate
from soe_temporal.soe.local_backends import create_in_memory_backends

versioned_workflow = (Path(__file__).parent / "versioning.yaml").read_text()


def call_llm(prompt: str, config: dict) -> str:
    """A fake model: answers for the node that asks (``config["name"]``) with the rendered
    prompt it got. ``response`` has no schema entry, so the answer is
    ``{"response": ...}``."""
    document, _ = json.JSONDecoder().raw_decode(prompt)
    return json.dumps({"response": f"{config['name']}: {document['prompt']}"})


def main() -> dict:
    backends = create_in_memory_backends()
    nodes, broadcast = create_all_nodes(backends, call_llm=call_llm)

    runs = {
        "v1": {"request": "order 42", "api_version": "v1"},
        "v2": {"request": "order 42", "api_version": "v2"},
        "latest": {"request": "order 42"},  # no api_version: the latest version
    }
    responses = {}
    for name, initial_context in runs.items():
        execution_id = orchestrate(
            config=versioned_workflow,
            initial_workflow_name="entry_workflow",
            initial_signals=["START"],
            initial_context=initial_context,
            backends=backends,
            broadcast_signals_caller=broadcast,
        )
        context = backends.context.get_context(execution_id)
        print(f"{name} signals:", context["__operational__"]["signals"])
        print(f"{name} response:", context["response"][-1])
        responses[name] = context

    backends.cleanup_all()
    return responses


if __name__ == "__main__":
    main()
