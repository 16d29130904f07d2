"""Proposing states to the orchestrator, for runs it created (deployment runs): these wait for the
answer, unlike the write-behind records of runs this process started itself."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from headwater.core.states import StateType
from headwater.states import State

if TYPE_CHECKING:
    from headwater.schemas.states import StateSchema


def state_from_schema(schema: StateSchema) -> State[Any]:
    """The SDK's `State` for a stored state: its result, if persisted, is read on `result()`."""
    return State(
        schema.type,
        schema.name,
        schema.message,
        timestamp=schema.timestamp,
        result_ref=schema.data,
        cache_key=schema.details.cache_key,
        scheduled_time=schema.details.scheduled_time,
        id=schema.id,
    )


def propose(flow_run_id: UUID, state: State[Any], force: bool = False) -> tuple[str, State[Any], float | None]:
    """Propose `state`; returns the answer (`ACCEPT`, `REJECT`, `WAIT`, `ABORT`), the run's state after
    it (the proposed state, with its data, when accepted) and the delay the orchestrator asks for."""
    from headwater._wiring import call
    from headwater.engine.recorder import state_payload
    from headwater.schemas.states import StateCreate

    proposal = StateCreate.model_validate(state_payload(state))
    result = call(lambda o: o.set_flow_run_state(flow_run_id, proposal, force=force))
    answer = result.status.value
    if answer == "ACCEPT" or result.state is None:
        return answer, state, result.delay_seconds
    current = state_from_schema(result.state)
    if result.reason and not current.message:
        current.message = result.reason
    return answer, current, result.delay_seconds


def current_state_type(flow_run_id: UUID, timeout: float | None = None) -> StateType | None:
    """The run's state type as the orchestrator has it now (`TimeoutError` after `timeout` seconds)."""
    from headwater._wiring import call

    return call(lambda o: o.read_flow_run(flow_run_id), timeout).state_type
