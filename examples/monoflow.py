"""Monoflow: one flow of tasks passing data along — a small daily-sales ETL.

    python examples/monoflow.py

A tiny "shop API" runs inside this program on 127.0.0.1 (nothing here needs the internet):

- `GET /orders?day=…` answers 503 to the first request for each day, so `extract_orders` fails once and
  its retries carry it through;
- `GET /rates` returns exchange rates and counts its calls: `fetch_rates` is cached on its inputs for an
  hour, so the second day's run reads the rates from the cache instead of calling the API again.

The flow runs for two days. Each run loads its rows into a SQLite "warehouse" in a temporary folder and
logs a summary with `get_run_logger()`. Every flow run, task run, retry and log line is recorded in the
store (`$HEADWATER_HOME/headwater.db`; see `headwater flow-run ls`).
"""

from __future__ import annotations

import json
import random
import sqlite3
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TypedDict
from urllib.parse import parse_qs, urlparse

import httpx

from headwater import flow, get_run_logger, task
from headwater.cache_policies import INPUTS

DAYS = ["2024-05-01", "2024-05-02"]
RATES_TO_USD = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27}


class Order(TypedDict):
    id: str
    amount: float
    currency: str
    status: str


# -- the fake shop API ----------------------------------------------------------------------------
class ShopAPI(BaseHTTPRequestHandler):
    """Orders for a day (deterministic, generated from the day) and exchange rates."""

    calls: Counter[str] = Counter()

    def log_message(self, format: str, *args: object) -> None:  # keep the console for the flow's logs
        pass

    def do_GET(self) -> None:
        url = urlparse(self.path)
        key = f"{url.path}?{url.query}"
        ShopAPI.calls[key] += 1
        if url.path == "/rates":
            return self._send(200, RATES_TO_USD)
        if url.path == "/orders":
            day = parse_qs(url.query).get("day", [""])[0]
            if ShopAPI.calls[key] == 1:  # the first request for each day fails: a flaky upstream
                return self._send(503, {"message": "Service Unavailable, try again"})
            return self._send(200, generate_orders(day))
        return self._send(404, {"message": "Not Found"})

    def _send(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def generate_orders(day: str) -> list[Order]:
    rng = random.Random(day)
    return [
        Order(
            id=f"{day}-{i:03d}",
            amount=round(rng.uniform(5, 250), 2),
            currency=rng.choice(list(RATES_TO_USD)),
            status=rng.choices(["paid", "cancelled"], weights=[9, 1])[0],
        )
        for i in range(40)
    ]


@contextmanager
def shop_api() -> Iterator[str]:
    """Serve the shop API on a free local port for the duration of the block; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), ShopAPI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# -- the pipeline ---------------------------------------------------------------------------------
@task(retries=3, retry_delay_seconds=0.2)
def extract_orders(api: str, day: str) -> list[Order]:
    response = httpx.get(f"{api}/orders", params={"day": day})
    response.raise_for_status()  # a 503 raises: the task run fails this attempt and is retried
    orders: list[Order] = response.json()
    get_run_logger().info("Fetched %d orders for %s", len(orders), day)
    return orders


# The API's address changes from run to run (a free port), so it is left out of the cache key:
# runs asking for the same base currency share one cached answer for an hour.
@task(cache_policy=INPUTS - "api", cache_expiration=timedelta(hours=1))
def fetch_rates(api: str, base: str = "USD") -> dict[str, float]:
    response = httpx.get(f"{api}/rates", params={"base": base})
    response.raise_for_status()
    rates: dict[str, float] = response.json()
    get_run_logger().info("Fetched exchange rates to %s for %s", base, ", ".join(sorted(rates)))
    return rates


@task
def transform(orders: list[Order], rates: dict[str, float]) -> list[tuple[str, float]]:
    """Paid orders only, in USD."""
    return [(o["id"], round(o["amount"] * rates[o["currency"]], 2)) for o in orders if o["status"] == "paid"]


@task
def load(rows: list[tuple[str, float]], day: str, warehouse: str) -> float:
    """Replace the day's rows in the warehouse; returns the day's revenue."""
    with closing(sqlite3.connect(warehouse)) as db, db:
        db.execute("CREATE TABLE IF NOT EXISTS sales (order_id TEXT PRIMARY KEY, day TEXT, usd REAL)")
        db.execute("DELETE FROM sales WHERE day = ?", (day,))
        db.executemany("INSERT INTO sales VALUES (?, ?, ?)", [(oid, day, usd) for oid, usd in rows])
        (revenue,) = db.execute("SELECT ROUND(SUM(usd), 2) FROM sales WHERE day = ?", (day,)).fetchone()
    return float(revenue)


@flow
def daily_sales(api: str, day: str, warehouse: str) -> float:
    orders = extract_orders(api, day)
    rates = fetch_rates(api)
    rows = transform(orders, rates)
    revenue = load(rows, day, warehouse)
    get_run_logger().info("%s: %d paid orders, revenue %.2f USD", day, len(rows), revenue)
    return revenue


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="headwater-warehouse-") as folder, shop_api() as api:
        warehouse = str(Path(folder) / "warehouse.db")
        revenue = {day: daily_sales(api, day, warehouse) for day in DAYS}
    rate_calls = sum(n for key, n in ShopAPI.calls.items() if key.startswith("/rates"))
    for day, usd in revenue.items():
        print(f"{day}: revenue {usd:,.2f} USD")
    print(f"The rates endpoint was called {rate_calls} time(s) for {len(DAYS)} runs; the rest came from the cache.")


if __name__ == "__main__":
    main()
