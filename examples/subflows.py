"""Flow of subflows: a parent flow composed of child flows, each a first-class run of its own.

    python examples/subflows.py

`quarterly_report` (with `log_prints=True`: its `print` lines become log lines of its run) calls two
child flows:

- `region_sales`, once per region: it parses that region's receipts with `parse_receipt.map(...)`,
  one task run per receipt, and adds them up;
- `flag_outliers`, once: it compares the regions' totals with their mean.

Each child call is recorded as a flow run linked to the parent's run (and to a task run in the parent
that stands for the call), so `headwater flow-run ls` shows the children under their parent. The data
is generated locally from a fixed seed.
"""

from __future__ import annotations

import random
import statistics

from headwater import flow, get_run_logger, task

REGIONS = ["north", "south", "east", "west"]


def generate_receipts(quarter: str, region: str) -> list[str]:
    """Receipt lines like `"2024-Q2/north/017 EUR 12.50"`, the same for the same quarter and region."""
    rng = random.Random(f"{quarter}/{region}")
    count = rng.randint(8, 15) if region != "east" else 40  # one region sells far more this quarter
    return [f"{quarter}/{region}/{i:03d} EUR {rng.uniform(5, 120):.2f}" for i in range(count)]


@task
def parse_receipt(line: str) -> float:
    _, currency, amount = line.split()
    if currency != "EUR":
        raise ValueError(f"unexpected currency in {line!r}")
    return float(amount)


@flow
def region_sales(region: str, receipts: list[str]) -> float:
    amounts = parse_receipt.map(receipts)  # one task run per receipt, run concurrently
    total = round(sum(amounts.result()), 2)
    get_run_logger().info("%s: %d receipts, %.2f EUR", region, len(receipts), total)
    return total


@flow
def flag_outliers(totals: dict[str, float], tolerance: float = 0.5) -> list[str]:
    mean = statistics.fmean(totals.values())
    return [region for region, total in totals.items() if abs(total - mean) > tolerance * mean]


@flow(log_prints=True)
def quarterly_report(quarter: str = "2024-Q2") -> dict[str, float]:
    totals = {region: region_sales(region, generate_receipts(quarter, region)) for region in REGIONS}
    outliers = flag_outliers(totals)
    print(f"Sales report for {quarter}:")
    for region, total in sorted(totals.items(), key=lambda item: -item[1]):
        print(f"  {region:<6} {total:>10,.2f} EUR{'  <- outlier' if region in outliers else ''}")
    print(f"Total: {sum(totals.values()):,.2f} EUR across {len(REGIONS)} regions")
    return totals


if __name__ == "__main__":
    quarterly_report()
