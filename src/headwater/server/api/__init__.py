"""The HTTP API: thin FastAPI routers over the service layer. Parse, call a service, return a schema.

Paths follow Prefect's REST API where it has the resource (`GET /api/health`,
`POST /api/flow_runs/filter`, `POST /api/flow_runs/{id}/set_state` …).
"""
