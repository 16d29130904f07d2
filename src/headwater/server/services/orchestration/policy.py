"""The flow-run policy: the rules a proposed flow-run state goes through, in order, and the follow-ups an
accepted one sets off."""

from __future__ import annotations

from headwater.server.services.orchestration.deployment_rules import (
    LimitDeploymentConcurrency,
    LimitWorkPoolConcurrency,
    WaitWhileWorkIsPaused,
)
from headwater.server.services.orchestration.follow_ups import CancelChildFlowRuns, FollowUp
from headwater.server.services.orchestration.rules import TRANSITION_RULES, OrchestrationRule

FLOW_RUN_POLICY: tuple[type[OrchestrationRule], ...] = (
    # Invalid transitions first: a second claim of a run (PENDING → PENDING) is rejected, not told to wait.
    *TRANSITION_RULES,
    WaitWhileWorkIsPaused,
    # Deployment before pool: rows are locked in this order by every claim, so claims cannot deadlock.
    LimitDeploymentConcurrency,
    LimitWorkPoolConcurrency,
)
"""The rules a proposed flow-run state goes through, in order; the first decision wins."""

FLOW_RUN_FOLLOW_UPS: tuple[type[FollowUp], ...] = (CancelChildFlowRuns,)
"""What an accepted flow-run state sets off once committed."""
