"""`flow.serve(...)` and `headwater.serve(...)` in a script of their own: the script deploys its flows and runs
their runs itself; `headwater deployment run NAME --param k=v --watch` completes through it."""

from __future__ import annotations

import signal
import textwrap
from pathlib import Path

import pytest
from p3_support import Processes, cli, read_runs, unique

from headwater._wiring import call
from headwater.core.states import StateType
from headwater.testing.utilities import Harness

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent(
    '''
    """Serves its flows until interrupted: `python served.py flow NAME` or `python served.py many NAME`."""
    import sys

    from headwater import flow, serve


    @flow(name="p3-served", log_prints=True)
    def served(k: str, n: int = 1) -> str:
        print(f"served k={k} n={n}")
        return k * n


    @flow(name="p3-served-other")
    def other() -> str:
        return "other"


    if __name__ == "__main__":
        how, name = sys.argv[1:]
        if how == "flow":
            served.serve(name, parameters={"n": 2})
        else:
            serve(served.to_deployment(name, parameters={"n": 2}), other.to_deployment(name))
    '''
)


@pytest.mark.parametrize("how", ["flow", "many"], ids=["flow.serve", "headwater.serve"])
def test_a_served_deployment_runs_from_the_script_that_serves_it(
    server: Harness, processes: Processes, tmp_path: Path, how: str
) -> None:
    script = tmp_path / "served.py"
    script.write_text(SCRIPT)
    name = unique("served")
    serving = processes.python(script, how, name, cwd=tmp_path)
    serving.wait_for_output(f"Serving 'p3-served/{name}'")

    ran = cli("deployment", "run", f"p3-served/{name}", "--param", "k=v", "--watch")

    assert ran.returncode == 0, ran.stdout + ran.stderr + "\n--- served ---\n" + serving.output()
    assert "Completed" in ran.stdout
    serving.wait_for_output("served k=v n=2")  # the deployment's default n, the run's k
    deployment = call(lambda o: o.read_deployment_by_name(f"p3-served/{name}"))
    assert deployment.work_pool_name == "serve"
    (run,) = read_runs(deployment_id=[deployment.id])
    assert run.state_type is StateType.COMPLETED
    assert run.parameters == {"k": "v", "n": 2}
    if how == "many":
        assert call(lambda o: o.read_deployment_by_name(f"p3-served-other/{name}")).work_pool_name == "serve"

    serving.signal(signal.SIGINT)  # Ctrl-C stops serving

    assert serving.wait(30) == 0, serving.output()
