"""What state a flow run ends in, given what its function returned (Prefect's rules).

- a `State` is the final state itself; a future stands for its run's state;
- a list, tuple or set of states/futures fails the run if any of them did not complete
  ("2/5 states failed"), and completes it otherwise;
- any other value completes the run with that value.
"""

from __future__ import annotations

from typing import Any

from headwater.core.states import StateType
from headwater.futures import HeadwaterFuture, HeadwaterFutureList
from headwater.states import State, count_failed


def return_value_to_state(value: Any) -> State[Any]:
    """The final state for a returned value."""
    if isinstance(value, HeadwaterFuture):
        value = value.wait_for_state()
    if isinstance(value, State):
        if value.is_completed():
            # Keep the value, but the flow run's state is its own record, not the task run's.
            return State(StateType.COMPLETED, value.name, value.message, value.data if value.has_data() else None,
                         result_ref=value.result_ref)
        return State(value.type, value.name, value.message, value, result_ref=value.result_ref)
    if isinstance(value, HeadwaterFutureList):  # what `map` returns: judged like a list of its futures
        value = list(value)
    if type(value) in (list, tuple, set) and value and all(isinstance(v, State | HeadwaterFuture) for v in value):
        states = [v.wait_for_state() if isinstance(v, HeadwaterFuture) else v for v in value]
        failed = count_failed(states)
        if failed:
            first = next(s for s in states if s.is_final() and not s.is_completed())
            return State(StateType.FAILED, message=f"{failed}/{len(states)} states failed.", data=first)
        return State(StateType.COMPLETED, data=type(value)(s.result() for s in states))
    return State(StateType.COMPLETED, data=value)
