"""Concurrency: submitted and mapped tasks, waiting on futures, async flows, and a process pool.

    python examples/concurrency.py

Three flows, each a different way to run tasks at the same time:

- `crawl` (threads, the default task runner): `.submit()` starts a task run and returns a future at
  once; `.map()` submits one run per item, with `unmapped(...)` passing one argument whole to every
  run; `wait(...)` waits for a set of futures and `as_completed(...)` yields them as they finish.
  A future passed as an argument is waited for and replaced by its value.
- `check_hosts` (async): an async flow awaiting async tasks together with `asyncio.gather`.
- `count_primes_below` (`ProcessPoolTaskRunner`): a CPU-bound step spread over worker processes, where
  the GIL does not serialise it.

The I/O is simulated with sleeps, so nothing here needs the network.
"""

from __future__ import annotations

import asyncio
import math
import time

from headwater import flow, get_run_logger, task, unmapped
from headwater.futures import as_completed, wait
from headwater.task_runners import ProcessPoolTaskRunner

PAGES = [f"https://example.org/catalogue/page-{i}" for i in range(8)]
HOSTS = {"db.internal": 0.30, "cache.internal": 0.10, "api.internal": 0.20, "queue.internal": 0.25}


# -- threads: submit, map, unmapped, wait, as_completed --------------------------------------------
@task
def download(url: str, latency: float) -> str:
    time.sleep(latency)  # stands for the network round trip
    page_number = int(url.rsplit("-", 1)[1])
    return f"{url} the catalogue lists " + "item " * (page_number + 1)


@task
def word_count(page: str, stopwords: set[str]) -> int:
    return sum(1 for word in page.split() if word not in stopwords)


@task
def total(counts: list[int]) -> int:
    return sum(counts)


@flow
def crawl(pages: list[str]) -> int:
    logger = get_run_logger()
    started = time.perf_counter()
    # All start now, on the thread pool; the later pages answer sooner.
    downloads = [download.submit(url, 0.05 * (len(pages) - i)) for i, url in enumerate(pages)]
    for future in as_completed(downloads):  # in the order they finish, not the order submitted
        logger.info("downloaded %s", future.result().split()[0])
    logger.info("%d pages in %.2f s", len(pages), time.perf_counter() - started)

    # One run per page; the stopwords go whole to every run instead of being iterated over.
    counts = word_count.map(downloads, unmapped({"the", "lists"}))
    done, not_done = wait(counts)
    logger.info("%d pages counted, %d still running", len(done), len(not_done))

    # A list of futures as an argument: `total` starts once every count is in, and receives the values.
    return total.submit(counts).result()


# -- async: an async flow awaiting async tasks ------------------------------------------------------
@task
async def ping(host: str, latency: float) -> float:
    await asyncio.sleep(latency)
    return latency * 1000


@flow
async def check_hosts(hosts: dict[str, float]) -> dict[str, float]:
    started = time.perf_counter()
    latencies = await asyncio.gather(*(ping(host, seconds) for host, seconds in hosts.items()))
    get_run_logger().info("%d hosts checked in %.2f s", len(hosts), time.perf_counter() - started)
    return dict(zip(hosts, latencies, strict=True))


# -- processes: a CPU-bound step ----------------------------------------------------------------------
@task
def count_primes(start: int, stop: int) -> int:
    return sum(1 for n in range(max(start, 2), stop) if all(n % d for d in range(2, math.isqrt(n) + 1)))


@flow(task_runner=ProcessPoolTaskRunner(max_workers=2))
def count_primes_below(limit: int, chunks: int = 4) -> int:
    bounds = [limit * i // chunks for i in range(chunks + 1)]
    return sum(count_primes.map(bounds[:-1], bounds[1:]).result())


def main() -> None:
    print(f"crawl: {crawl(PAGES)} words on {len(PAGES)} pages")
    latencies = asyncio.run(check_hosts(HOSTS))
    print("check_hosts: " + ", ".join(f"{host} {ms:.0f} ms" for host, ms in latencies.items()))
    print(f"count_primes_below: {count_primes_below(100_000)} primes below 100,000")


# ProcessPoolTaskRunner starts its workers with `spawn`, which imports this file again in each of
# them: the guard keeps the workers from running the flows themselves.
if __name__ == "__main__":
    main()
