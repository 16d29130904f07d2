"""The engine: runs flows and tasks in this process.

Key contracts:
- A task call inside a flow does no I/O: task runs, their states and log lines go to the recorder's
  in-memory buffer, written behind the hot path in batches by the background loop (`portal`).
- Flow runs started in this process (top-level calls and subflows) are recorded the same way; runs the
  orchestrator created (deployment runs) propose their states to it and obey its answer.
- One implementation per behaviour: each run engine is a shared core with thin sync and async drivers.
"""
