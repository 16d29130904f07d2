"""Deployments: flows made runnable by workers on separate infrastructure, and `run_deployment`.

    from headwater.deployments import Deployment, run_deployment

    Deployment.build_from_flow(flow=etl, name="nightly", work_pool_name="pool").apply()
    run = run_deployment("etl/nightly", parameters={"day": "2026-11-25"})
    run.state.result()
"""

from headwater.deployments.base import Deployment
from headwater.deployments.run import DeploymentFlowRun, run_deployment
from headwater.deployments.schedules import Cron, Interval, RRule

__all__ = ["Cron", "Deployment", "DeploymentFlowRun", "Interval", "RRule", "run_deployment"]
