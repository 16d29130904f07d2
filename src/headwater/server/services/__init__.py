"""Services: the domain operations of the server, one module per kind of object.

Key contracts: every public function takes the `Database` first, owns its transaction (one per call),
accepts and returns `headwater.schemas` objects, and raises `ObjectNotFound` or `InvalidInput` with a
message saying what was wrong. HTTP routers and the embedded orchestrator call these and nothing below.
Flow-run states proposed by clients go through `orchestration`; states the SDK recorded after the fact
(`records`) are stored as they are.
"""
