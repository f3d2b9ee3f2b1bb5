"""A 10,000-line COD payout statement imported and reconciled, beside a 1,000-line baseline.

A fresh database gets 22,000 delivered COD parcels (one set per statement, so no run finds
another's payouts). Each statement (1,000 and 10,000 lines, as CSV and as xlsx; about 2 % of the
amounts differ, 1 % of the waybills are unknown, 0.5 % of the lines repeat a waybill, 0.5 % are
unreadable) is imported by a child process of its own (`python -m bench.cod FILE`), which
reports its wall time for parse + reconcile + commit and its own peak resident memory.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from openpyxl import Workbook

from api.cod.reconcile import Upload
from api.cod.service import import_file, sha256_of
from api.core.db import Database
from api.core.localdev import asyncpg_kwargs
from bench.env import ROOT, fresh_database

HEADER = ("STT", "Mã vận đơn", "Tiền thu hộ (VNĐ)", "Phí thu hộ", "Ngày thanh toán")
RUNS = (("1k", 1_000), ("10k", 10_000))
FORMATS = ("csv", "xlsx")

_SEED = [
    """
    INSERT INTO cooperatives (name, phone, province_code, province_name, ward_code, ward_name,
                              street, carrier)
    VALUES ('HTX COD Bench', '0900000000', 1, 'Tỉnh 1', 10001, 'Xã 1', 'Thôn 1', 'viettel_post')
    """,
    """
    INSERT INTO orders (cooperative_id, platform, shop_id, platform_order_id, status,
                        payment_status, fulfilment_status, payment_method, total_vnd, currency,
                        buyer_id, buyer_name, buyer_phone, ship_province, ship_ward, ship_street,
                        ship_full_address, platform_status, shipping_fee_vnd,
                        platform_update_time)
    SELECT (SELECT id FROM cooperatives LIMIT 1), 'tiktok_shop', 'cod-bench', 'CB-' || g,
           'delivered', 'cod_pending', 'delivered', 'cod', 50000 + (g % 40) * 5000, 'VND',
           '', '', '', '', '', '', '', '', 0, 0
      FROM generate_series(1, 22000) g
    """,
    """
    INSERT INTO shipments (order_id, cooperative_id, carrier, reference, waybill, cod_amount_vnd,
                           weight_g, status, status_at, receiver_name, receiver_phone,
                           receiver_province, receiver_ward, receiver_street)
    SELECT id, cooperative_id, 'viettel_post', 'PHN-' || id, 'VTPB' || lpad(id::text, 8, '0'),
           total_vnd, 1000, 'delivered', now() - interval '3 days', '', '', '', '', ''
      FROM orders WHERE shop_id = 'cod-bench'
    """,
]


@dataclass
class Run:
    """One import as its child process measured it."""

    name: str
    file_format: str
    lines: int
    file_bytes: int
    wall_s: float
    start_rss_mb: float
    peak_rss_mb: float
    counts: dict[str, int]

    @property
    def rate(self) -> float:
        """Lines per second."""
        return self.lines / self.wall_s


async def _seed(db_url: str) -> list[tuple[str, int]]:
    conn = await asyncpg.connect(**asyncpg_kwargs(db_url))
    try:
        for statement in _SEED:
            await conn.execute(statement)
        rows = await conn.fetch("SELECT waybill, cod_amount_vnd FROM shipments ORDER BY id")
        return [(r["waybill"], r["cod_amount_vnd"]) for r in rows]
    finally:
        await conn.close()


def statement_rows(parcels: list[tuple[str, int]]) -> list[list[object]]:
    """One line per parcel, with the mix of mismatches the module docstring describes."""
    rows: list[list[object]] = []
    for i, (waybill, cod) in enumerate(parcels):
        amount: object = cod
        if i % 50 == 7:
            amount = cod - 1000  # the carrier collected less
        elif i % 100 == 13:
            waybill = f"VTPX{i:08d}"  # not ours
        elif i % 200 == 17:
            waybill = parcels[i - 1][0]  # paid twice in the same file
        elif i % 200 == 19:
            amount = "không rõ"  # unreadable
        rows.append([i + 1, waybill, amount, 1500, "28/11/2026 10:00"])
    return rows


def write_csv(rows: list[list[object]], path: Path) -> None:
    """Excel-style Vietnamese CSV: BOM, semicolons, dotted thousands."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow([f"{v:,}".replace(",", ".") if isinstance(v, int) else v for v in row])
    path.write_bytes(("\ufeff" + out.getvalue()).encode("utf-8"))


def write_xlsx(rows: list[list[object]], path: Path) -> None:
    """A one-sheet workbook (written streaming)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Bảng kê")
    sheet.append(list(HEADER))
    for row in rows:
        sheet.append(row)
    book.save(path)


def _child(db_url: str, path: Path, name: str, file_format: str, lines: int) -> Run:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(  # noqa: S603 - our own module with fixed arguments
        [sys.executable, "-m", "bench.cod", "--one", db_url, str(path)],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return Run(name, file_format, lines, path.stat().st_size, result["wall_s"],
               result["start_rss_mb"], result["peak_rss_mb"], result["counts"])  # fmt: skip


async def measure() -> list[Run]:
    """Seed, write the four statements, import each in its own child process."""
    runs: list[Run] = []
    async with fresh_database() as db_url:
        parcels = await _seed(db_url)
        with tempfile.TemporaryDirectory(prefix="phien-cod-bench-") as tmp:
            start = 0
            for name, size in RUNS:
                for file_format in FORMATS:
                    rows = statement_rows(parcels[start : start + size])
                    start += size
                    path = Path(tmp) / f"statement-{name}.{file_format}"
                    (write_csv if file_format == "csv" else write_xlsx)(rows, path)
                    runs.append(
                        await asyncio.to_thread(_child, db_url, path, name, file_format, size)
                    )
    return runs


def report(runs: list[Run]) -> None:
    """Print the table."""
    print("\nCOD statement import + reconciliation (one child process per statement; wall time"
          " = parse + store + reconcile + commit; RSS before the file is read, and peak; 2-core"
          f" machine, load average {os.getloadavg()[0]:.1f})")  # fmt: skip
    print("| statement | format |  lines |   file KB | wall s |  lines/s | RSS MB before | peak "
          "| matched | differs | unknown | twice | parked |")  # fmt: skip
    print("|-----------|--------|-------:|----------:|-------:|---------:|--------------:|-----:"
          "|--------:|--------:|--------:|------:|-------:|")  # fmt: skip
    for r in runs:
        c = r.counts
        print(f"| {r.name:<9} | {r.file_format:<6} | {r.lines:>6} | {r.file_bytes / 1024:>9.0f} "
              f"| {r.wall_s:>6.2f} | {r.rate:>8.0f} | {r.start_rss_mb:>13.0f} | {r.peak_rss_mb:>4.0f} "
              f"| {c['matched']:>7} "
              f"| {c['amount_differs']:>7} | {c['unknown_waybill']:>7} | {c['paid_twice']:>5} "
              f"| {c['parked']:>6} |")  # fmt: skip


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _one(db_url: str, name: str, content: bytes, start_rss_mb: float) -> dict[str, object]:
    db = Database(db_url, pool_size=1, max_overflow=0)
    try:
        started = time.perf_counter()
        async with db.session() as session:
            upload = Upload("viettel_post", name, sha256_of(content), None, "bench")
            statement, _ = await import_file(session, upload, content)
            await session.commit()
        wall = time.perf_counter() - started
    finally:
        await db.dispose()
    counts = {k: getattr(statement, k) for k in
              ("matched", "amount_differs", "unknown_waybill", "paid_twice", "parked")}  # fmt: skip
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"wall_s": wall, "start_rss_mb": start_rss_mb, "peak_rss_mb": peak_kb / 1024,
            "counts": counts}  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        before = _rss_mb()
        statement_file = Path(sys.argv[3])
        measured = _one(sys.argv[2], statement_file.name, statement_file.read_bytes(), before)
        print(json.dumps(asyncio.run(measured)))
