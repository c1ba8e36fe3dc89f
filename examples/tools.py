"""Tools for the examples (SOE_TOOLS=examples.tools:TOOLS).

Each is an ordinary Python function: SOE's tools registry shape (F-API-6), unchanged.
"""

from __future__ import annotations

from typing import Any

from soe_temporal.tool_context import current_execution_id, current_soe_client


def finalize_approved() -> dict[str, Any]:
    """The approval workflow's happy ending (seed: External Triggers and Continuation)."""
    return {"status": "approved", "next_step": "order placed"}


def notify_rejection() -> dict[str, Any]:
    return {"status": "rejected", "notified": True}


def send_mail(to: str, subject: str, urgent: bool = False) -> dict[str, Any]:
    """SOE_SPEC F-TOOL-5's SendMail: inline parameters arrive rendered to strings."""
    return {"accepted": "@" in to, "to": to, "subject": subject, "urgent": urgent}


def add_numbers(a: int, b: int) -> int:
    """For context_parameter_field: the field holds {"a": 1, "b": 2} (or its JSON text)."""
    return a + b


def total(values: list[float]) -> float:
    """process_accumulated: receives the whole history of its parameter field."""
    return sum(values)


NOTES = [
    "Temporal records every activity result in the workflow history.",
    "SOE nodes trigger on signals and emit signals.",
    "A continue-as-new starts a fresh history for a long-lived workflow.",
]


def search_notes(query: str) -> list[str]:
    """Find notes that share a word with the query."""
    words = {word.lower().strip(".,") for word in query.split()}
    return [note for note in NOTES if words & {w.lower().strip(".,") for w in note.split()}]


def word_count(text: str) -> int:
    """Count the words of a text."""
    return len(text.split())


def long_task(**task_data: Any) -> dict[str, Any]:
    """The seed's fire-and-forget background job: reports what it processed."""
    return {"processed": sorted(task_data), "status": "done"}


def fetch_and_summarise(url: str) -> str:
    """SOE_SPEC F-CHILD-6's worker tool (offline: it summarises the URL itself)."""
    return f"summary of {url}"


async def notify_other_workflow(other_execution_id: str) -> dict[str, Any]:
    """The seed's cross-execution call: signal another execution by its id."""
    await current_soe_client().broadcast_signals(other_execution_id, ["EXTERNAL_EVENT"], wait=False)
    return {"notified": other_execution_id, "by": current_execution_id()}


TOOLS: dict[str, Any] = {
    "finalize_approved": finalize_approved,
    "notify_rejection": notify_rejection,
    "send_mail": {"function": send_mail, "max_retries": 2, "failure_signal": "MAIL_FAILED"},
    "add_numbers": add_numbers,
    "total": {"function": total, "process_accumulated": True},
    "search_notes": search_notes,
    "word_count": word_count,
    "long_task": long_task,
    "fetch_and_summarise": fetch_and_summarise,
    "notify_other_workflow": notify_other_workflow,
}
