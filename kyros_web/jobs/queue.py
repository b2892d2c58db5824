"""The job queue (issue 19): RQ on Redis at KYROS_REDIS_URL, and the worker that runs its jobs
each in an app context of its own. Without a Redis URL there is no queue: jobs' work runs in
the request, as before."""
from __future__ import annotations

from typing import Callable

from redis import Redis
from rq import Queue, SimpleWorker, Worker

from .models import TASKS, Job

# RQ keeps a job's own record this long after it ends; ours lives in the jobs table.
RESULT_TTL = 3600
FAILURE_TTL = 7 * 24 * 3600


def background(config) -> bool:
    """True when jobs go to a queue for workers; False when they run in the request."""
    return bool(config.get("KYROS_REDIS_URL"))


def connection(config) -> Redis:
    """A client for the queue's Redis; a server that does not answer fails within seconds."""
    return Redis.from_url(config["KYROS_REDIS_URL"], socket_connect_timeout=2,
                          socket_timeout=10)


def enqueue(config, job: Job) -> None:
    """Put the job on the queue for a worker (after the transaction that made it committed,
    so the worker finds its row). Raises redis' errors when Redis does not answer."""
    with connection(config) as redis:
        Queue(config["KYROS_JOB_QUEUE"], connection=redis).enqueue(
            TASKS[job.kind], str(job.id), job_timeout=config["KYROS_JOB_TIMEOUT"],
            result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL,
            description=f"{job.kind.value} {job.id}")


class _AppContextPerJob:
    """Runs each job in an app context of its own (its own database session)."""

    app = None
    fork = False

    def perform_job(self, job, queue) -> bool:
        from ..extensions import db

        with self.app.app_context():
            if self.fork:
                # The work horse is a fork of the worker: the pooled connections it inherited
                # belong to the parent, so it opens its own.
                db.engine.dispose(close=False)
            try:
                return super().perform_job(job, queue)
            finally:
                db.session.remove()


class AppWorker(_AppContextPerJob, Worker):
    """RQ's worker: a forked work horse per job, killed by RQ when the job times out."""

    fork = True


class InProcessWorker(_AppContextPerJob, SimpleWorker):
    """Runs the jobs in its own process, one after the other (where fork is not wanted:
    tests that watch a job from the same process)."""


def make_worker(app, on_horse_killed: Callable[[str, int], None], *, fork: bool = True):
    """A worker on the app's queue; `on_horse_killed(job_id, pid)` is told, in an app context,
    of a job whose work horse `pid` was killed under it (RQ's own failure handling of a dead
    horse)."""

    def horse_killed(rq_job, pid, _status, _rusage):
        with app.app_context():
            for job_id in rq_job.args[:1]:
                on_horse_killed(job_id, pid)

    cls = AppWorker if fork else InProcessWorker
    worker = cls([app.config["KYROS_JOB_QUEUE"]], connection=connection(app.config),
                 work_horse_killed_handler=horse_killed)
    worker.app = app
    return worker
