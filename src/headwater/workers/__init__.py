"""Workers: poll a work pool for due flow runs and run each in its own infrastructure.

`ProcessWorker` runs each flow run as a local subprocess (`python -m headwater.engine.execute <id>`):

    from headwater.workers import ProcessWorker

    ProcessWorker("local", limit=4).start()   # or `headwater worker start --pool local --limit 4`

Key contracts:
- A run is claimed by proposing PENDING; only an ACCEPT starts a process, so two workers never run the
  same run.
- The path from "run created" to "process started" has no polling interval: the worker long-polls.
- A process that ends while its run is not final gets the run CRASHED with the exit code or signal; a run
  set CANCELLING has its process stopped and ends CANCELLED; a worker that shuts down stops its runs'
  processes, so no run is left RUNNING.
"""

from headwater.workers.base import BaseWorker, ExitStatus, Infrastructure
from headwater.workers.process import ProcessWorker

__all__ = ["BaseWorker", "ExitStatus", "Infrastructure", "ProcessWorker"]
