"""Server-side orchestration of proposed states: named rules (`rules`) and the transaction that applies
them (`transitions`). Flow runs are orchestrated here; task runs are orchestrated by the SDK and only
recorded (`services.records`), until a feature such as tag concurrency limits needs the server."""

from headwater.server.services.orchestration.policy import FLOW_RUN_POLICY
from headwater.server.services.orchestration.rules import OrchestrationRule
from headwater.server.services.orchestration.transitions import set_flow_run_state

__all__ = ["FLOW_RUN_POLICY", "OrchestrationRule", "set_flow_run_state"]
