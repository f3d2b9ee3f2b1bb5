"""Shared machinery of the carrier simulators: config, parcels, faults, webhooks, control.

Each carrier module supplies its wire protocol; this module keeps what both need identical: the
`/_sim/*` control endpoints the tests and benchmarks drive, fault injection that never blocks the
event loop, and webhook delivery with bounded retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import httpx
import orjson
import uvicorn
from fastapi import APIRouter, FastAPI, Request, Response

from integrations.simulators._ids import IdSequence

_SECRET_FIELDS = frozenset({"password", "token", "webhook_secret"})


@dataclass
class CarrierSimConfig:
    """Behaviour of one simulated carrier; every field can change at run time (/_sim/config)."""

    username: str = "sim-user"  # Viettel Post login
    password: str = field(default="sim-password", repr=False)
    token: str = field(default="sim-ghn-token", repr=False)  # GHN's static API token
    shop_id: int = 885
    webhook_secret: str = field(default="sim-webhook-secret", repr=False)
    webhook_target_url: str | None = None
    latency_ms: float = 0.0
    failure_rate: float = 0.0  # share of API calls answered 500 before doing anything
    timeout_rate: float = 0.0  # share of bookings stored, then answered after timeout_sleep_s
    timeout_sleep_s: float = 30.0
    seed: int = 0
    # None: waybills unique to this start (`_ids`), kept across /_sim/reset; a number: the fixed
    # numbering from that base, restarted by a reset.
    id_base: int | None = None
    token_ttl_s: float = 24 * 3600.0  # lifetime of a Viettel Post login token
    auto_progress_s: float | None = None  # move every live parcel one step each period
    webhook_max_retries: int | None = None  # None → the carrier's documented count
    webhook_retry_delay_s: float | None = None  # None → the carrier's documented delay
    webhook_timeout_s: float = 5.0
    webhook_concurrency: int = 64
    # Viettel Post's order lookup is UNCONFIRMED (fact sheet §1.6): False answers it 404 as a
    # route the carrier does not have.
    order_lookup_available: bool = True
    # The wording of Viettel Post's duplicate-ORDER_NUMBER refusal (None: the simulator's own).
    duplicate_message: str | None = None


@dataclass
class SimParcel:
    """One booked parcel as the carrier holds it."""

    waybill: str
    reference: str
    status: str
    request: dict[str, Any]
    fee_vnd: int
    cod_vnd: int
    weight_grams: int
    sort_code: str
    created_at: float = field(default_factory=time.time)
    status_changed_at: float = field(default_factory=time.time)


def json_response(doc: Any, status_code: int = 200) -> Response:
    """JSON response serialised with orjson (the hot path avoids FastAPI's encoder)."""
    return Response(orjson.dumps(doc), status_code=status_code, media_type="application/json")


def as_int(value: Any) -> int:
    """Lenient int of a JSON value (numbers may arrive as strings); 0 when unreadable."""
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0


async def read_json(request: Request) -> Any:
    """The request body as JSON, or None when it is empty or malformed."""
    body = await request.body()
    try:
        return orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return None


class SimState:
    """In-memory carrier state plus the fault dice; reset restores the startup config."""

    def __init__(self, config: CarrierSimConfig, clock: Callable[[], float] = time.time) -> None:
        self.initial_config = replace(config)
        self.config = config
        # Epoch seconds for token and print-code lifetimes; a test shares one with our client.
        self.clock = clock
        self.numbers = IdSequence(config.id_base)
        self.reset()

    def reset(self) -> None:
        """Forget every parcel, token and counter, and restore the startup config."""
        self.config = replace(self.initial_config)
        self.rng = random.Random(self.config.seed)
        self.parcels: dict[str, SimParcel] = {}
        self.by_reference: dict[str, list[str]] = {}
        self.duplicates_rejected = 0
        self.logins = 0
        self.calls: Counter[str] = Counter()
        self.tokens: dict[str, float] = {}
        self.print_codes: dict[str, tuple[list[str], float]] = {}
        if self.config.id_base is not None:
            self.numbers = IdSequence(self.config.id_base)

    def next_number(self) -> int:
        """A fresh number for waybills and codes (see `_ids`: unseeded, never one seen before)."""
        return self.numbers.next()

    def add(self, parcel: SimParcel) -> None:
        """Store a new parcel under its waybill and our reference."""
        self.parcels[parcel.waybill] = parcel
        self.by_reference.setdefault(parcel.reference, []).append(parcel.waybill)

    def find_by_reference(self, reference: str) -> SimParcel | None:
        """The first parcel booked for a reference."""
        waybills = self.by_reference.get(reference)
        return self.parcels[waybills[0]] if waybills else None

    async def delay(self) -> None:
        """The configured network latency (an async sleep: never blocks other requests)."""
        if self.config.latency_ms > 0:
            await asyncio.sleep(self.config.latency_ms / 1000)

    def should_fail(self) -> bool:
        """Roll the failure dice."""
        return self.config.failure_rate > 0 and self.rng.random() < self.config.failure_rate

    def should_time_out(self) -> bool:
        """Roll the timeout-after-accept dice."""
        return self.config.timeout_rate > 0 and self.rng.random() < self.config.timeout_rate

    def summary(self, with_requests: bool) -> dict[str, Any]:
        """What /_sim/bookings reports: totals, duplicates and the counts per reference."""
        counts = {ref: len(wbs) for ref, wbs in self.by_reference.items()}
        bookings = [
            {
                "reference": p.reference,
                "waybill": p.waybill,
                "status": p.status,
                "fee_vnd": p.fee_vnd,
                "cod_vnd": p.cod_vnd,
                "weight_grams": p.weight_grams,
                "created_at": p.created_at,
                **({"request": p.request} if with_requests else {}),
            }
            for p in self.parcels.values()
        ]
        return {
            "total": len(self.parcels),
            "unique_references": len(counts),
            "duplicates": sum(c - 1 for c in counts.values()),
            "duplicate_attempts_rejected": self.duplicates_rejected,
            "counts": counts,
            "bookings": bookings,
        }


def issue_print_code(state: SimState, waybills: list[str], expires_at: float) -> str:
    """A fresh print code/token for some waybills, valid until `expires_at` (epoch seconds)."""
    code = secrets.token_urlsafe(24)
    state.print_codes[code] = (waybills, expires_at)
    return code


def label_page(state: SimState, code: str) -> Response:
    """The printable label page for a print code, or 404 once unknown or expired."""
    entry = state.print_codes.get(code)
    if entry is None or entry[1] < state.clock():
        return Response("Mã in không hợp lệ hoặc đã hết hạn", 404, media_type="text/plain")
    rows = "".join(f"<h1>{w}</h1><p>{state.parcels[w].sort_code}</p>" for w in entry[0])
    return Response(f"<html><body>{rows}</body></html>", media_type="text/html")


class WebhookPusher:
    """Deliver status webhooks in the background with the carrier's bounded retries."""

    def __init__(self, state: SimState, default_retries: int, default_delay_s: float) -> None:
        self._state = state
        self._default_retries = default_retries
        self._default_delay_s = default_delay_s
        self._tasks: set[asyncio.Task[None]] = set()
        self._http: httpx.AsyncClient | None = None
        self._semaphore = asyncio.Semaphore(state.config.webhook_concurrency)
        self.log: deque[dict[str, Any]] = deque(maxlen=5000)
        self.stats: Counter[str] = Counter()

    async def start(self) -> None:
        """Open the outgoing HTTP client."""
        self._http = httpx.AsyncClient(timeout=self._state.config.webhook_timeout_s)

    async def stop(self) -> None:
        """Cancel pending deliveries and close the client."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()

    def clear(self) -> None:
        """Drop pending deliveries and the log (on /_sim/reset)."""
        for task in list(self._tasks):
            task.cancel()
        self.log.clear()
        self.stats.clear()

    def push(self, url: str, payload: dict[str, Any], headers: dict[str, str], key: str) -> None:
        """Schedule one webhook; `key` identifies it in the delivery log."""
        entry: dict[str, Any] = {"key": key, "attempts": 0, "delivered": False, "last_status": None}
        self.log.append(entry)
        self.stats["queued"] += 1
        task = asyncio.create_task(self._deliver(url, orjson.dumps(payload), headers, entry))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(
        self, url: str, body: bytes, headers: dict[str, str], entry: dict[str, Any]
    ) -> None:
        config = self._state.config
        retries = config.webhook_max_retries
        delay = config.webhook_retry_delay_s
        retries = self._default_retries if retries is None else retries
        delay = self._default_delay_s if delay is None else delay
        send_headers = {"Content-Type": "application/json", **headers}
        for attempt in range(1 + retries):
            if attempt:
                await asyncio.sleep(delay)
            entry["attempts"] = attempt + 1
            try:
                assert self._http is not None
                async with self._semaphore:
                    resp = await self._http.post(url, content=body, headers=send_headers)
                entry["last_status"] = resp.status_code
                if resp.status_code == 200:
                    entry["delivered"] = True
                    self.stats["delivered"] += 1
                    return
            except httpx.HTTPError as exc:
                entry["last_status"] = type(exc).__name__
        self.stats["failed"] += 1


@dataclass
class CarrierHooks:
    """What the shared control endpoints need from a carrier simulator."""

    happy_path: list[str]
    resolve_status: Callable[[Any], str | None]  # raw code or normalised name → raw status
    is_terminal: Callable[[str], bool]
    on_status_change: Callable[[SimParcel, dict[str, Any]], None]


def move(hooks: CarrierHooks, parcel: SimParcel, status: str, extra: Any) -> None:
    """Set a parcel's status and announce it (webhook)."""
    parcel.status = status
    parcel.status_changed_at = time.time()
    hooks.on_status_change(parcel, extra if isinstance(extra, dict) else {})


def _next_step(hooks: CarrierHooks, status: str) -> str | None:
    if status in hooks.happy_path:
        i = hooks.happy_path.index(status)
        return hooks.happy_path[i + 1] if i + 1 < len(hooks.happy_path) else None
    return None


def _targets(state: SimState, body: dict[str, Any]) -> list[SimParcel]:
    if body.get("waybill"):
        parcel = state.parcels.get(str(body["waybill"]))
        return [parcel] if parcel else []
    if body.get("reference"):
        waybills = state.by_reference.get(str(body["reference"]), [])
        return [state.parcels[w] for w in waybills]
    return list(state.parcels.values())


def control_router(state: SimState, hooks: CarrierHooks, pusher: WebhookPusher) -> APIRouter:
    """The `/_sim/*` endpoints shared by every carrier simulator."""
    router = APIRouter(prefix="/_sim")

    @router.get("/bookings")
    async def bookings(requests: bool = False) -> Response:
        return json_response(state.summary(requests))

    @router.get("/bookings/{reference}")
    async def bookings_for(reference: str) -> Response:
        waybills = state.by_reference.get(reference, [])
        return json_response([asdict(state.parcels[w]) for w in waybills])

    @router.post("/advance")
    async def advance(request: Request) -> Response:
        body = await read_json(request) or {}
        wanted = body.get("status")
        status = hooks.resolve_status(wanted) if wanted is not None else None
        if wanted is not None and status is None:
            return json_response({"error": f"unknown status {wanted!r}"}, 400)
        moved: list[str] = []
        for parcel in _targets(state, body):
            target = status or _next_step(hooks, parcel.status)
            if target is None or (status is None and hooks.is_terminal(parcel.status)):
                continue
            move(hooks, parcel, target, body)
            moved.append(parcel.waybill)
        return json_response({"moved": len(moved), "waybills": moved[:1000]})

    @router.post("/reset")
    async def reset() -> Response:
        state.reset()
        pusher.clear()
        return json_response({"ok": True})

    @router.post("/expire-tokens")
    async def expire_tokens() -> Response:
        # Viettel Post only: every login token stops working, as after VTP's own expiry.
        state.tokens.clear()
        return json_response({"ok": True})

    @router.post("/config")
    async def configure(request: Request) -> Response:
        body = await read_json(request) or {}
        known = {f.name for f in fields(CarrierSimConfig)}
        unknown = sorted(set(body) - known)
        if unknown:
            return json_response({"error": f"unknown config fields {unknown}"}, 400)
        state.config = replace(state.config, **body)
        return json_response(public_config(state.config))

    @router.get("/stats")
    async def stats() -> Response:
        return json_response(
            {"logins": state.logins, "calls": dict(state.calls), "webhooks": dict(pusher.stats)}
        )

    @router.get("/webhooks")
    async def webhooks() -> Response:
        return json_response(list(pusher.log))

    return router


def public_config(config: CarrierSimConfig) -> dict[str, Any]:
    """The config without its secrets."""
    return {k: v for k, v in asdict(config).items() if k not in _SECRET_FIELDS}


async def _auto_progress(state: SimState, hooks: CarrierHooks) -> None:
    while True:
        period = state.config.auto_progress_s
        await asyncio.sleep(period if period and period > 0 else 1.0)
        if not period or period <= 0:
            continue
        for parcel in list(state.parcels.values()):
            target = _next_step(hooks, parcel.status)
            if target is not None:
                move(hooks, parcel, target, {})


def lifespan_for(
    state: SimState, hooks: CarrierHooks, pusher: WebhookPusher
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    """Lifespan that runs the webhook client and the optional auto-progress loop."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await pusher.start()
        progress = asyncio.create_task(_auto_progress(state, hooks))
        try:
            yield
        finally:
            progress.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await progress
            await pusher.stop()

    return lifespan


def run_blocking(app: FastAPI, host: str, port: int) -> None:
    """Serve a simulator until interrupted (the `phien simulate carrier ...` command)."""
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
