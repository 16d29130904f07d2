"""The scheduler creates the upcoming runs of active schedules once each; late runs are marked `Late`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from deployment_support import claim, cron, deploy, every, run_of

from headwater.core.states import StateType
from headwater.schemas._base import now_utc
from headwater.schemas.deployments import DeploymentScheduleCreate, DeploymentUpdate, ScheduleSpec
from headwater.schemas.filters import FlowRunFilter, FlowRunSort
from headwater.schemas.objects import FlowRun
from headwater.server.loops.late_runs import LateRuns
from headwater.server.loops.runner import LoopRunner
from headwater.server.loops.scheduler import Scheduler
from headwater.server.services import deployments, flow_runs, scheduling
from headwater.server.services.deployment_runs import scheduled_state
from headwater.server.services.orchestration import FLOW_RUN_POLICY, OrchestrationRule
from headwater.server.services.orchestration.transitions import set_run_state
from headwater.server.services.scheduling import Lookahead, idempotency_key, schedule_deployments
from headwater.server.settings import ServerSettings
from headwater.server.storage.database import Database

NOW = datetime(2025, 3, 8, 12, 0, tzinfo=UTC)


async def scheduled(db: Database, deployment_id: object) -> list[FlowRun]:
    found = await flow_runs.read_flow_runs(
        db, FlowRunFilter.model_validate({"deployment_id": [deployment_id], "sort": FlowRunSort.START_TIME_ASC})
    )
    return found


async def test_cron_schedules_make_the_next_runs_within_the_horizon_in_their_time_zone(db: Database) -> None:
    deployment = await deploy(db, schedules=[cron("*/20 * * * *", timezone="Europe/Paris")])
    assert await schedule_deployments(db, now=NOW) == 3
    runs = await scheduled(db, deployment.id)
    times = [NOW + timedelta(minutes=m) for m in (20, 40, 60)]
    assert [run.expected_start_time for run in runs] == times
    assert all(run.auto_scheduled and run.state_name == "Scheduled" for run in runs)
    assert [run.idempotency_key for run in runs] == [idempotency_key(deployment.id, t) for t in times]
    assert {run.work_queue_name for run in runs} == {"default"} and runs[0].parameters == {"source": "s3"}


async def test_at_least_one_run_even_beyond_the_horizon(db: Database) -> None:
    daily = await deploy(db, schedules=[cron("0 9 * * *", timezone="America/New_York")])
    await schedule_deployments(db, now=NOW)
    runs = await scheduled(db, daily.id)
    assert [run.expected_start_time for run in runs] == [datetime(2025, 3, 8, 14, 0, tzinfo=UTC)]


async def test_interval_and_rrule_schedules(db: Database) -> None:
    now = now_utc()
    anchor = now - timedelta(seconds=25)
    interval = await deploy(db, "interval", schedules=[every(600, anchor=anchor)])
    spec = ScheduleSpec(rrule="FREQ=HOURLY;BYMINUTE=30;BYSECOND=0", timezone="Asia/Kolkata")  # UTC+5:30
    rrule = await deploy(db, "rrule", schedules=[DeploymentScheduleCreate(schedule=spec)])
    await schedule_deployments(db, Lookahead(max_runs=2, horizon=timedelta(hours=2)), now=now)
    assert [r.expected_start_time for r in await scheduled(db, interval.id)] == [
        anchor + timedelta(seconds=600),
        anchor + timedelta(seconds=1200),
    ]
    # Minute 30 in Kolkata is minute 0 in UTC.
    next_hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    assert [r.expected_start_time for r in await scheduled(db, rrule.id)] == [next_hour, next_hour + timedelta(hours=1)]


async def test_scheduling_again_creates_nothing_twice(db: Database) -> None:
    now = now_utc()
    # Two schedules due at the same times, counted from when they were stored.
    deployment = await deploy(db, schedules=[every(60, anchor=now), every(60, anchor=now)])
    assert await schedule_deployments(db, now=now) == 3
    assert await schedule_deployments(db, now=now) == 0
    assert await schedule_deployments(db, now=now + timedelta(seconds=61)) == 1
    assert len(await scheduled(db, deployment.id)) == 4


async def test_inactive_schedules_and_paused_deployments_make_no_runs(db: Database) -> None:
    inactive = await deploy(db, "inactive", schedules=[cron("* * * * *", active=False)])
    paused = await deploy(db, "paused", schedules=[every(60)], paused=True)
    assert await schedule_deployments(db, now=NOW) == 0
    assert await scheduled(db, inactive.id) == [] and await scheduled(db, paused.id) == []


async def test_pausing_stops_new_runs_and_removes_the_upcoming_ones(db: Database) -> None:
    deployment = await deploy(db, schedules=[every(60)])
    await schedule_deployments(db)
    assert len(await scheduled(db, deployment.id)) == 3
    await deployments.update_deployment(db, deployment.id, DeploymentUpdate(paused=True))
    assert await scheduled(db, deployment.id) == []
    assert await schedule_deployments(db) == 0


async def test_the_scheduler_loop_runs_a_round(db: Database) -> None:
    await deploy(db, schedules=[every(60)])
    assert await Scheduler(db, 5, max_runs=2).run_once() == 2
    names = [loop.name for loop in LoopRunner.for_server(db, ServerSettings(database_url="sqlite://")).loops]
    assert {"scheduler", "late-runs"} <= set(names)


async def test_late_runs_are_renamed_late_and_stay_scheduled(db: Database) -> None:
    deployment = await deploy(db)
    late = await run_of(db, deployment, scheduled_time=now_utc() - timedelta(seconds=60))
    recent = await run_of(db, deployment, scheduled_time=now_utc() - timedelta(seconds=5))
    claimed = await run_of(db, deployment, scheduled_time=now_utc() - timedelta(seconds=60))
    await claim(db, claimed.id)
    assert await LateRuns(db, late_after_seconds=15, interval_seconds=5).run_once() == 1
    after = await flow_runs.read_flow_run(db, late.id)
    assert (after.state_type, after.state_name, after.expected_start_time) == (
        StateType.SCHEDULED,
        "Late",
        late.expected_start_time,
    )
    assert (await flow_runs.read_flow_run(db, recent.id)).state_name == "Scheduled"
    assert (await flow_runs.read_flow_run(db, claimed.id)).state_type is StateType.PENDING
    assert await scheduling.mark_late_runs(db, 15) == 0  # Late already
    assert (await claim(db, late.id)).status.value == "ACCEPT"  # a late run is still handed out and claimed


async def test_a_run_claimed_meanwhile_is_not_marked_late(db: Database) -> None:
    # The loop reads the late runs, then proposes `Late` to each: one may have been claimed in between.
    deployment = await deploy(db)
    run = await run_of(db, deployment, scheduled_time=now_utc() - timedelta(seconds=60))
    await claim(db, run.id)
    late = scheduled_state(now_utc() - timedelta(seconds=60), name="Late")
    policy: tuple[type[OrchestrationRule], ...] = (scheduling.MarkLateOnlyWhileScheduled, *FLOW_RUN_POLICY)
    result = await set_run_state(db, "flow_run", run.id, late, policy=policy)
    assert result.status.value == "REJECT" and result.reason == "not marked late: the run is Pending (PENDING)"
    assert (await flow_runs.read_flow_run(db, run.id)).state_type is StateType.PENDING
