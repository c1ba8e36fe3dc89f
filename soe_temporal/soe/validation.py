"""soe-ai's ``soe.validation`` names: the errors of config and operational validation."""

from __future__ import annotations

from ..errors import OperationalValidationError, WorkflowValidationError

__all__ = ["OperationalValidationError", "WorkflowValidationError"]
