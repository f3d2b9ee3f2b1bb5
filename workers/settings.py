"""arq worker settings, in one place (see README "Workers" for why each value is what it is)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from arq.connections import RedisSettings
from arq.cron import CronJob, cron
from arq.worker import Function, func

from api.core.config import Settings, get_settings
from api.core.embedded import resolve_urls
from api.core.jobs import Job
from api.core.queue import JOB_TIMEOUT_S, QUEUE_NAME
from api.core.serialization import deserialize, serialize
from workers.context import MAX_JOBS, shutdown, startup
from workers.jobs import (
    cancel,
    channels,
    checkout,
    drain,
    handoff,
    labels,
    reconcile,
    reports,
    retention,
    tracking,
)
from workers.supervise import PhienWorker, new_worker_name


def redis_settings(settings: Settings | None = None) -> RedisSettings:
    """Redis for the queue: REDIS_URL, or the embedded server."""
    settings = settings or get_settings()
    _, redis_url = resolve_urls(settings.database_url, settings.redis_url, settings.var_dir)
    return RedisSettings.from_dsn(redis_url)


FUNCTIONS: list[Function] = [
    # A drain that fails leaves its rows unhandled with a retry_after; the sweeper rings again.
    func(drain.drain_inbox, name=Job.DRAIN_INBOX, max_tries=3),
    # A failed carrier event is retried after a backoff; past the last try, the sweeper.
    func(tracking.process_carrier_event, name=Job.PROCESS_CARRIER_EVENT, max_tries=5),
    # Carrier bookings retry transient failures with backoff (Retry(defer=…)); past the last try
    # the row stays pending and the shipment sweeper offers it again.
    func(handoff.hand_off_shipment, name=Job.HAND_OFF_SHIPMENT, max_tries=8),
    # One outbox commit's shipments; what it cannot settle goes to hand_off_shipment jobs. A
    # failed run is safe to repeat (row locks, the waybill check and our carrier reference).
    func(handoff.hand_off_shipments, name=Job.HAND_OFF_SHIPMENTS, max_tries=3),
    func(cancel.cancel_shipment, name=Job.CANCEL_SHIPMENT, max_tries=8),
    # A label asked for and not fetched yet is rung again by the next request or refresh.
    func(labels.fetch_label, name=Job.FETCH_LABEL, max_tries=5),
    func(reconcile.reconcile_connection, name=Job.RECONCILE_CONNECTION, max_tries=3),
    func(channels.refresh_channel_token, name=Job.REFRESH_CHANNEL_TOKEN, max_tries=5),
    # Stripe: a failed event backs off like a carrier event; refunds retry Stripe's outages
    # (same idempotency key, so one refund however many tries).
    func(checkout.process_stripe_event, name=Job.PROCESS_STRIPE_EVENT, max_tries=5),
    func(checkout.refund_checkout, name=Job.REFUND_CHECKOUT, max_tries=8),
    func(checkout.expire_checkout, name=Job.EXPIRE_CHECKOUT, max_tries=3),
]

CRON_JOBS: list[CronJob] = [
    cron(labels.refresh_labels, name=Job.REFRESH_LABELS, minute=set(range(0, 60, 5)), second=30),
    cron(
        drain.sweep_inbox,
        name=Job.SWEEP_INBOX,
        second=set(range(0, 60, 5)),
        run_at_startup=True,
    ),
    cron(
        reconcile.reconcile_all,
        name=Job.RECONCILE_ALL,
        minute=set(range(2, 60, 5)),
        second=0,
    ),
    cron(
        handoff.sweep_shipments,
        name=Job.SWEEP_SHIPMENTS,
        second=set(range(1, 60, 3)),
        run_at_startup=True,
    ),
    # Reports add pending deltas to the facts, so this only keeps the delta table short.
    cron(reports.compact_tonnage, name=Job.COMPACT_TONNAGE, second=set(range(2, 60, 5))),
    # Reservations of direct checkouts whose expiry passed unpaid (their webhook lost or late).
    cron(checkout.sweep_checkouts, name=Job.SWEEP_CHECKOUTS, second={7, 27, 47}),
    cron(reports.drop_empty_facts, name=Job.DROP_EMPTY_FACTS, minute={41}, second=30),
    cron(
        channels.refresh_expiring_tokens,
        name=Job.REFRESH_EXPIRING_TOKENS,
        minute={17},
        second=0,
        run_at_startup=True,
    ),
    # Buyers' data in raw webhook bodies is kept WEBHOOK_BODY_RETENTION_DAYS, then emptied.
    cron(retention.purge_webhook_bodies, name=Job.PURGE_WEBHOOK_BODIES, hour={3}, minute={41}),
]


def unbound_job_names(functions: list[Function], crons: list[CronJob]) -> list[str]:
    """Job names with no function, or functions with no registered name (empty: all bound)."""
    bound = [f.name for f in functions] + [c.name for c in crons]
    registered = {job.value for job in Job}
    missing = sorted(registered - set(bound))
    unknown = sorted(set(bound) - registered)
    doubled = sorted({name for name in bound if bound.count(name) > 1})
    return (
        [f"{n} (no function)" for n in missing]
        + [f"{n} (not in api.core.jobs.Job)" for n in unknown]
        + [f"{n} (bound twice)" for n in doubled]
    )


def check_registry(functions: list[Function], crons: list[CronJob]) -> None:
    """Refuse to start a worker that would leave rung jobs unrun (or run unknown ones)."""
    problems = unbound_job_names(functions, crons)
    if problems:
        raise RuntimeError("job registry and worker functions disagree: " + ", ".join(problems))


class WorkerSettings:
    """Passed to arq's Worker (`phien worker` builds it from these attributes)."""

    functions: ClassVar[list[Function]] = FUNCTIONS
    cron_jobs: ClassVar[list[CronJob]] = CRON_JOBS
    queue_name = QUEUE_NAME
    on_startup = startup
    on_shutdown = shutdown
    job_serializer = serialize
    job_deserializer = deserialize
    # Results are never read: every outcome we care about is a database row.
    keep_result = 0
    health_check_interval = 30
    # Enough concurrency to overlap carrier/platform latency on two cores; the worker's
    # database pool covers every one of them unless DB_POOL_SIZE says otherwise.
    max_jobs = MAX_JOBS
    poll_delay = 0.05
    job_timeout = JOB_TIMEOUT_S
    max_tries = 5
    # Let in-flight jobs finish on SIGTERM; a job cut short runs again (jobs are idempotent).
    graceful_shutdown_timeout = 30
    allow_abort_jobs = False


def create_worker(
    *,
    burst: bool = False,
    handle_signals: bool = True,
    settings: Settings | None = None,
    name: str | None = None,
) -> PhienWorker:
    """An arq Worker built from WorkerSettings (used by `phien worker`, `phien serve`, tests).

    `settings` given explicitly (tests, `phien serve`) travel in the job context, so the
    worker uses the same database as its caller. `name` is what it marks its polls under.
    """
    check_registry(WorkerSettings.functions, WorkerSettings.cron_jobs)
    return PhienWorker(
        name=name or new_worker_name(),
        functions=WorkerSettings.functions,
        # arq keeps each cron's next run on the CronJob itself: a worker of its own gets fresh
        # copies, or a second worker in the same process (tests, `phien serve` restarts) would
        # inherit the first one's schedule and skip its run-at-startup sweeps.
        cron_jobs=[dataclasses.replace(job, next_run=None) for job in WorkerSettings.cron_jobs],
        queue_name=WorkerSettings.queue_name,
        redis_settings=redis_settings(settings),
        ctx={"settings": settings} if settings else None,
        on_startup=WorkerSettings.on_startup,
        on_shutdown=WorkerSettings.on_shutdown,
        job_serializer=WorkerSettings.job_serializer,
        job_deserializer=WorkerSettings.job_deserializer,
        keep_result=WorkerSettings.keep_result,
        health_check_interval=WorkerSettings.health_check_interval,
        max_jobs=WorkerSettings.max_jobs,
        job_timeout=WorkerSettings.job_timeout,
        max_tries=WorkerSettings.max_tries,
        burst=burst,
        handle_signals=handle_signals,
        # arq starts at most max_jobs per poll and then sleeps poll_delay: with 100 ms carrier
        # calls, its default 0.5 s left workers idle most of the time (<= 100 jobs/s each).
        poll_delay=WorkerSettings.poll_delay,
    )
