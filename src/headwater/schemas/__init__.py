"""The wire contract: pydantic models shared by the server, the client and the CLI. No I/O.

`objects` are what the API returns, `actions` what it accepts, `filters` how lists are queried and
`responses` the answers that are not plain objects.
"""
