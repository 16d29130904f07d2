"""How the SDK reaches an orchestrator: the `Orchestrator` interface and its HTTP implementation.

Key contract: nothing here imports the server or the engine. The embedded store is wired in by the
composition root (`headwater._wiring`), which hands the engine an `Orchestrator` backed by the
server's services in this process.
"""
