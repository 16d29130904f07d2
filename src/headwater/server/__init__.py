"""The server stack: storage (tables, migrations, the `Database`), services (the domain operations), and
later the HTTP API and background loops.

Key contracts: the server never imports the SDK stack (engine, client, flows, tasks, CLI); services own
their transactions and speak `headwater.schemas`; SQL lives in `storage` and `services` only.
Importing this package is free: nothing below is imported until used.
"""
