"""The seed's "Multi-Workflow Ecosystems" in soe-ai's own API: one combined config
(``workflows``, ``context_schema``, ``identities``) holds ``main_workflow`` and the two
child workflows it delegates to; ``orchestrate`` starts ``main_workflow`` by name.

The config is the seed's "Example: Full Ecosystem Config", as in
``examples/classifier_ecosystem.yaml``. ``call_llm`` is a deterministic stand-in for a
model with soe-ai's ``CallLlm`` signature. Written as for soe-ai; only the two import lines
say ``soe_temporal.soe`` instead of ``soe``. Run it with
``python examples/soe_ai_ecosystem.py``.

One difference from soe-ai 0.1.4 shows in the output: there a child node never emits its
``event_emissions``, so ``PROCESSING_COMPLETE`` and ``COMPLETE`` never happen; here the child
node emits them once its child has started (soe_temporal's decision D-3).
"""

from __future__ import annotations

import json
from pathlib import Path

from soe_temporal.soe import create_all_nodes, orchestrate
from soe_temporal.soe.local_backends import create_in_memory_backends

my_config = (Path(__file__).parent / "classifier_ecosystem.yaml").read_text()


def call_llm(prompt: str, config: dict) -> str:
    """A fake model. The prompt starts with a JSON document: ``context`` holds the fields
    the prompt references, ``conversation_history`` starts with the identity's system
    prompt. ``config`` is the node's config plus its ``name``. ``result`` has a schema
    entry (``type: object``), so the answer is the bare object."""
    document, _ = json.JSONDecoder().raw_decode(prompt)
    content = json.loads(document["context"])["content"]
    system_prompt = document["conversation_history"].removeprefix("[system]: ")
    return json.dumps(
        {
            "analyzed_by": config["name"],
            "as": system_prompt.split(".")[0],
            "words": len(content.split()),
        }
    )


def main() -> dict:
    backends = create_in_memory_backends()
    nodes, broadcast = create_all_nodes(backends, call_llm=call_llm)

    results = {}
    for input_type, content in [("text", "the quick brown fox"), ("image", "a red barn")]:
        execution_id = orchestrate(
            config=my_config,  # Contains MULTIPLE workflows
            initial_workflow_name="main_workflow",  # Which one to start
            initial_signals=["START"],
            initial_context={"input_type": input_type, "content": content},
            backends=backends,
            broadcast_signals_caller=broadcast,
        )
        # The parent has its child's result and forwarded DONE signal when orchestrate returns.
        context = backends.context.get_context(execution_id)
        print(f"{input_type} signals:", context["__operational__"]["signals"])
        print(f"{input_type} result:", context["result"][-1])
        print(
            f"{input_type} identity:",
            backends.identity.get_identity(execution_id, f"{input_type}_analyzer"),
        )
        results[input_type] = context

    backends.cleanup_all()
    return results


if __name__ == "__main__":
    main()
