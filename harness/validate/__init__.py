"""`harness validate`: render the bundled stack (kustomize overlays, compose), validate it against
the Kubernetes and Compose schemas offline, and check it against the architecture's rules.

May import: config (and harness's base modules).
"""

from harness.validate.engine import check_stack, validate_stack
from harness.validate.model import Finding, Rule, Severity, ValidationReport
from harness.validate.rules import all_rules

__all__ = [
    "Finding",
    "Rule",
    "Severity",
    "ValidationReport",
    "all_rules",
    "check_stack",
    "validate_stack",
]
