"""Which refusals only say "not now" (client/explain.py server_busy), so a caller asks again
within its time limit instead of reporting a timeout it did not reach."""

from __future__ import annotations

import asyncio

from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from soe_temporal.client.explain import server_busy


def wrapped(cause: BaseException) -> WorkflowUpdateRPCTimeoutOrCancelledError:
    error = WorkflowUpdateRPCTimeoutOrCancelledError()
    error.__cause__ = cause
    return error


def test_an_update_call_that_ran_out_of_time_on_the_server_is_asked_again():
    """Under load (10,000 callers over 500 executions) the server lets an update's call
    pass its deadline before a workflow task takes it; temporalio wraps that."""
    assert server_busy(wrapped(RPCError("deadline", RPCStatusCode.DEADLINE_EXCEEDED, b"")))


def test_the_callers_own_cancellation_of_an_update_is_not_busy():
    assert not server_busy(wrapped(asyncio.CancelledError()))


def test_a_refusal_that_is_not_temporary_is_not_busy():
    assert not server_busy(RPCError("bad", RPCStatusCode.INVALID_ARGUMENT, b""))
