"""`make demo`: run every example, recording into the default store, then show how to look at the runs.

    python examples/demo.py

Each example runs as its own process, as a user would run it, recording into `$HEADWATER_HOME/headwater.db`
(`~/.headwater` when `HEADWATER_HOME` is not set). The demo exits non-zero if any example failed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLES = ["monoflow.py", "subflows.py", "concurrency.py"]


def home() -> Path:
    return Path(os.environ.get("HEADWATER_HOME") or Path.home() / ".headwater").expanduser()


def banner(text: str) -> None:
    print(f"\n{'=' * 100}\n{text}\n{'=' * 100}", flush=True)


def run_example(name: str) -> bool:
    banner(f"python examples/{name}")
    started = time.perf_counter()
    status = subprocess.run([sys.executable, str(HERE / name)], check=False).returncode
    outcome = "ok" if status == 0 else f"FAILED (exit status {status})"
    print(f"--> {name}: {outcome} in {time.perf_counter() - started:.1f} s", flush=True)
    return status == 0


def headwater_cli() -> str | None:
    """The `headwater` command next to this interpreter (the project's venv), else one on PATH."""
    beside = Path(sys.executable).with_name("headwater")
    return str(beside) if beside.exists() else shutil.which("headwater")


def show_recent_runs(cli: str) -> None:
    banner("headwater flow-run ls --limit 5")
    done = subprocess.run([cli, "flow-run", "ls", "--limit", "5"], capture_output=True, text=True, check=False)
    if done.returncode == 0:
        print(done.stdout, end="")
    else:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        print(f"The headwater CLI could not list the runs (exit status {done.returncode}): {last}")


def main() -> int:
    results = {name: run_example(name) for name in EXAMPLES}
    banner("Inspect the runs")
    print(f"Every run above is recorded in {home() / 'headwater.db'}. To look at them:\n")
    print("  headwater flow-run ls                 # the latest flow runs, newest first")
    print("  headwater flow-run inspect <id>       # one run: state history, parameters, task runs, subflows")
    print("  headwater flow-run logs <id>          # its log lines")
    cli = headwater_cli()
    if cli is not None:
        show_recent_runs(cli)
    failed = [name for name, ok in results.items() if not ok]
    print(
        f"\n{len(results) - len(failed)}/{len(results)} examples ran cleanly"
        + (f"; failed: {', '.join(failed)}" if failed else ".")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
