"""`make deploy-check`: build the image, run the compose stack, push signed webhooks through the
load balancer while a worker and an API replica are killed, and prove every order was stored
and booked with the carrier exactly once; then tear everything down and print a table.

DEPLOY_CHECK_WEBHOOKS (3000) sets the number of orders; DEPLOY_CHECK_NO_CACHE=1 times a build
from scratch; DEPLOY_CHECK_REBUILD_BASE=1 rebuilds the Debian base images; the logs go to
DEPLOY_CHECK_LOGS (/tmp/phien-deploy-check).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.deploy_check import traffic
from bench.deploy_check.engine import LOG_DIR, CheckError, Engine, ensure_engine, say
from bench.deploy_check.image_scan import Scan, scan_image
from bench.deploy_check.images import APP_IMAGE, Images, build_all, ca_bundle
from bench.deploy_check.stack import Stack, stack, wait_ready

ORDERS = int(os.environ.get("DEPLOY_CHECK_WEBHOOKS", "3000"))
BOOKED = "fulfilment_status = 'handed_off'"
SECRET_WORDS = ("PASSWORD", "SECRET", "KEY", "TOKEN")
SHIPMENT_DUPLICATES = (
    "SELECT count(*) - count(DISTINCT order_id) FROM shipments WHERE waybill IS NOT NULL"
)


@dataclass
class Outcome:
    """What the run proved."""

    ready_s: float
    sent: traffic.Sent
    stored: int
    distinct: int
    missing: int
    booked: int
    shipment_duplicates: int
    at_carrier: int
    carrier_unique: int
    carrier_duplicates: int
    carrier_refused_twice: int
    seconds_to_booked: float
    restarts: dict[str, tuple[int, str]]

    @property
    def duplicates(self) -> int:
        """Orders or parcels that exist twice, here or at the carrier."""
        return (self.stored - self.distinct) + self.shipment_duplicates + self.carrier_duplicates

    @property
    def lost(self) -> int:
        """Orders acknowledged but not stored, plus orders never booked at the carrier."""
        return self.missing + max(0, ORDERS - self.carrier_unique)


def _token(running: Stack) -> str:
    out = running.compose("run", "--rm", "-T", "--no-deps", "migrate", "phien", "seed-demo")
    return out.splitlines()[-1].strip()


def _wait_booked(running: Stack, orders: int, within_s: float) -> int:
    deadline = time.monotonic() + within_s
    booked = 0
    while time.monotonic() < deadline:
        booked = int(running.psql(f"SELECT count(*) FROM orders WHERE {BOOKED}"))  # noqa: S608
        if booked >= orders:
            break
        time.sleep(2)
    return booked


def _exercise(running: Stack, ready_s: float) -> Outcome:
    values = dict(line.split("=", 1) for line in running.env_file.read_text().splitlines())
    lb = f"http://127.0.0.1:{running.ports['PHIEN_HTTP_PORT']}"
    sim = f"http://127.0.0.1:{running.ports['SIM_TIKTOK_SHOP_PORT']}"
    carrier = f"http://127.0.0.1:{running.ports['SIM_VIETTEL_POST_PORT']}"
    wait_ready(f"{sim}/_sim/stats", 120)
    wait_ready(f"{carrier}/_sim/bookings", 120)
    asyncio.run(traffic.stock_up(lb, _token(running), ORDERS * 6))
    ids = asyncio.run(traffic.simulator_orders(sim, ORDERS))
    key, secret = values["TIKTOK_SHOP_APP_KEY"], values["TIKTOK_SHOP_APP_SECRET"]
    hooks = [traffic.signed(order_id, n, key, secret) for n, order_id in enumerate(ids)]
    faults = {0.3: lambda: running.crash("worker1"), 0.55: lambda: running.crash("api1")}
    started = time.monotonic()
    sent = asyncio.run(traffic.send_webhooks(f"{lb}/webhooks/tiktok-shop", hooks, faults))
    booked = _wait_booked(running, ORDERS, within_s=max(300.0, ORDERS / 5))
    seconds_to_booked = time.monotonic() - started
    stored_ids = set(running.psql("SELECT platform_order_id FROM orders").split())
    carrier_state = httpx.get(f"{carrier}/_sim/bookings", timeout=30).json()
    return Outcome(
        ready_s=ready_s,
        sent=sent,
        stored=int(running.psql("SELECT count(*) FROM orders")),
        distinct=len(stored_ids),
        missing=len(set(ids) - stored_ids),
        booked=booked,
        shipment_duplicates=int(running.psql(SHIPMENT_DUPLICATES)),
        at_carrier=int(carrier_state["total"]),
        carrier_unique=int(carrier_state["unique_references"]),
        carrier_duplicates=int(carrier_state["duplicates"]),
        carrier_refused_twice=int(carrier_state["duplicate_attempts_rejected"]),
        seconds_to_booked=seconds_to_booked,
        restarts={name: running.restarts(name) for name in ["worker1", "api1"]},
    )


def _row(name: str, value: object) -> str:
    return f"| {name:<52} | {value!s:>22} |"


def report(engine: Engine, images: Images, out: Outcome, scan: Scan, left: int) -> None:
    """The table (stdout)."""
    cached = f"{images.steps_cached} steps cached" if images.steps_cached else "no cache"
    rows = [
        ("app image", APP_IMAGE),
        ("image size (MB)", f"{images.size_bytes / 1e6:.0f}"),
        ("image build time (s)", f"{images.build_seconds:.1f} ({cached})"),
        ("image runs as (user:group)", scan.user),
        ("private CAs in the build's CA secret", scan.private_cas),
        (f"secrets or private CAs in the image ({scan.files} files)", len(scan.found)),
        ("time to first /ready through the LB (s)", f"{out.ready_s:.1f}"),
        ("webhooks sent (acknowledged 200)", out.sent.acknowledged),
        ("webhook retries after a failed answer", out.sent.retries),
        ("webhooks refused", out.sent.refused),
        ("orders stored", out.stored),
        ("orders booked (handed_off)", out.booked),
        ("bookings at the carrier simulator", out.at_carrier),
        ("seconds from first webhook to last booking", f"{out.seconds_to_booked:.1f}"),
        ("second bookings refused by the carrier", out.carrier_refused_twice),
        ("duplicates", out.duplicates),
        ("lost", out.lost),
        ("worker1 killed mid-run: restarts, state", "{} , {}".format(*out.restarts["worker1"])),
        ("api1 killed mid-run: restarts, state", "{} , {}".format(*out.restarts["api1"])),
        ("left behind (containers, networks, volumes)", left),
    ]
    compose = "compose v2" if engine.compose[-1] == "compose" else "docker-compose"
    print(f"\nDeploy check: {ORDERS} signed TikTok Shop webhooks through HAProxy to 2 API "
          f"replicas, 2 workers, Viettel Post simulator ({compose})")  # fmt: skip
    print(_row("measure", "value"))
    print(f"|{'-' * 54}|{'-' * 23}:|")
    for name, value in rows:
        print(_row(name, value))
    print(f"base images: {', '.join(sorted(set(images.base.values())))}")
    for finding in scan.found:
        print(f"FOUND IN THE IMAGE: {finding}")


def passed(out: Outcome, scan: Scan, left: int) -> bool:
    """Every order stored and booked exactly once, nothing refused, nothing left behind, and an
    image that runs as non-root and holds no secret."""
    return (
        scan.user.split(":")[0] not in ("", "0", "root") and not scan.found
        and out.sent.acknowledged == ORDERS and out.sent.refused == 0 and out.missing == 0
        and out.stored == ORDERS and out.booked == ORDERS and out.at_carrier == ORDERS
        and out.duplicates == 0 and out.lost == 0 and left == 0
    )  # fmt: skip


def main() -> int:
    """Run the whole check; 0 when it passed."""
    engine = ensure_engine()
    try:
        images = build_all(engine)
        with tempfile.TemporaryDirectory(prefix="phien-deploy-") as tmp:
            with stack(engine, images.base, Path(tmp)) as running:
                say("bringing the stack up")
                started = time.monotonic()
                running.compose("up", "-d", "--no-build", timeout=600)
                wait_ready(f"http://127.0.0.1:{running.ports['PHIEN_HTTP_PORT']}/ready", 300)
                ready_s = time.monotonic() - started
                outcome = _exercise(running, ready_s)
            left = running.leftovers()
            env = dict(line.split("=", 1) for line in running.env_file.read_text().splitlines())
            say(f"looking inside {APP_IMAGE}")
            secrets = [v for k, v in env.items() if any(w in k for w in SECRET_WORDS)]
            scan = scan_image(engine, APP_IMAGE, ca_bundle(), secrets)
        report(engine, images, outcome, scan, left)
        ok = passed(outcome, scan, left)
        print("PASSED" if ok else f"FAILED: see the table and the logs in {LOG_DIR}")
        return 0 if ok else 1
    finally:
        engine.stop()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CheckError as exc:
        say(f"FAILED: {exc}")
        sys.exit(1)
