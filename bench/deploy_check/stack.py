"""The compose stack of the check: its env file of fresh secrets, up, down, and its containers."""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.deploy_check.engine import LOG_DIR, CheckError, Engine, run, say
from bench.deploy_check.images import APP_IMAGE, LB_IMAGE, ROOT
from bench.env import free_port

PROJECT = "phien-deploy-check"
PORTS = ["PHIEN_HTTP_PORT", "SIM_TIKTOK_SHOP_PORT", "SIM_SHOPEE_PORT", "SIM_VIETTEL_POST_PORT",
         "SIM_GHN_PORT"]  # fmt: skip


def production_env() -> dict[str, str]:
    """A production env file's contents: every secret fresh and random, services simulated."""

    def secret() -> str:
        return secrets.token_urlsafe(32)

    pg, rd = secrets.token_hex(24), secrets.token_hex(24)
    return {
        "POSTGRES_PASSWORD": pg,
        "REDIS_PASSWORD": rd,
        "DATABASE_URL": f"postgresql://phien:{pg}@postgres:5432/phien",
        "REDIS_URL": f"redis://:{rd}@redis:6379/0",
        "TIKTOK_SHOP_API_BASE": "http://sim-tiktok-shop:9101",
        "TIKTOK_SHOP_AUTH_BASE": "http://sim-tiktok-shop:9101",
        "TIKTOK_SHOP_APP_KEY": f"app{secrets.token_hex(8)}",
        "TIKTOK_SHOP_APP_SECRET": secret(),
        "SHOPEE_API_BASE": "http://sim-shopee:9102",
        "SHOPEE_PARTNER_ID": str(1_000_000 + secrets.randbelow(8_000_000)),
        "SHOPEE_PARTNER_KEY": secret(),
        "VIETTEL_POST_API_BASE": "http://sim-viettel-post:9103",
        "VIETTEL_POST_USERNAME": f"phien-{secrets.token_hex(4)}",
        "VIETTEL_POST_PASSWORD": secret(),
        "VIETTEL_POST_WEBHOOK_SECRET": secret(),
        "VIETTEL_POST_SERVICE_CODE": "VCN",
        "GHN_API_BASE": "http://sim-ghn:9104/shiip/public-api",
        "GHN_TOKEN": secret(),
        "GHN_SHOP_ID": str(100_000 + secrets.randbelow(800_000)),
        "GHN_WEBHOOK_SECRET": secret(),
        "STRIPE_API_KEY": f"sk_test_{secret()}",
        "STRIPE_WEBHOOK_SECRET": f"whsec_{secret()}",
        # A Fernet key (32 random bytes, URL-safe base64) for platform tokens at rest.
        "SECRETS_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "BUYER_PHONE_KEY": secret(),
        "METRICS_TOKEN": secret(),
        "PUBLIC_BASE_URL": "http://localhost",
        "SHOPEE_CALLBACK_URL": "http://localhost/webhooks/shopee",
    }


def write_env_file(path: Path, values: dict[str, str]) -> None:
    """Write KEY=value lines, readable by root only."""
    path.touch(mode=0o600)
    path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))


@dataclass
class Stack:
    """A running compose project."""

    engine: Engine
    env_file: Path
    ports: dict[str, int]
    images: dict[str, str]

    def _env(self) -> dict[str, str]:
        return {
            "PHIEN_ENV_FILE": str(self.env_file),
            "PHIEN_IMAGE": APP_IMAGE,
            "LB_IMAGE": LB_IMAGE,
            "PYTHON_IMAGE": self.images["python"],
            "DEBIAN_IMAGE": self.images["debian"],
            "POSTGRES_IMAGE": self.images["postgres"],
            "REDIS_IMAGE": self.images["redis"],
            "LOG_LEVEL": os.environ.get("DEPLOY_CHECK_LOG_LEVEL", "WARNING"),
            **{name: str(port) for name, port in self.ports.items()},
        }

    def compose(self, *args: str, timeout: float = 300, check: bool = True) -> str:
        """`docker compose` on this project, with the env file feeding the ${…} too."""
        base = [*self.engine.compose, "--env-file", str(self.env_file), "-p", PROJECT]
        base += ["-f", str(ROOT / "docker-compose.yml"), "--profile", "simulators"]
        done = run([*base, *args], timeout=timeout, env=self._env(), check=False, cwd=ROOT)
        with (LOG_DIR / "compose.log").open("a") as log:
            log.write(done.stdout + done.stderr)
        if check and done.returncode != 0:
            raise CheckError(f"compose {' '.join(args[:2])} failed: {done.stderr[-1500:]}")
        return done.stdout.strip()

    def container(self, service: str) -> str:
        """The id of a service's container."""
        found = self.compose("ps", "-q", service).split()
        if not found:
            raise CheckError(f"no container for {service}")
        return found[0]

    def psql(self, sql: str) -> str:
        """One query in the PostgreSQL container (our own SQL, never input)."""
        pg = self.container("postgres")
        return self.engine.d("exec", pg, "psql", "-U", "phien", "-d", "phien", "-At", "-c", sql)

    def crash(self, service: str) -> None:
        """SIGKILL a service's main process from the host, as a crash would (the restart
        policy then applies; `docker kill` would count as a deliberate stop)."""
        cid = self.container(service)
        pid = int(self.engine.d("inspect", "-f", "{{.State.Pid}}", cid) or 0)
        say(f"killing {service} (pid {pid} on the host) with SIGKILL")
        if pid > 0:
            os.kill(pid, signal.SIGKILL)
        else:
            self.engine.d("kill", cid)

    def restarts(self, service: str) -> tuple[int, str]:
        """How often a service's container was restarted, and its state now."""
        out = self.engine.d(
            "inspect", "-f", "{{.RestartCount}} {{.State.Status}}", self.container(service)
        )
        count, state = out.split()
        return int(count), state

    def leftovers(self) -> int:
        """Containers, networks and volumes of this project still present."""
        label = f"label=com.docker.compose.project={PROJECT}"
        found = [
            self.engine.d("container", "ls", "-a", "-q", "--filter", label),
            self.engine.d("network", "ls", "-q", "--filter", label),
            self.engine.d("volume", "ls", "-q", "--filter", label),
        ]
        return sum(len(out.split()) for out in found)

    def down(self) -> None:
        """Containers, networks and volumes of the project removed."""
        self.compose("down", "-v", "--remove-orphans", "-t", "20", timeout=300, check=False)


@contextlib.contextmanager
def stack(engine: Engine, images: dict[str, str], workdir: Path) -> Iterator[Stack]:
    """The project up; always torn down afterwards (its logs kept if something failed)."""
    env_file = workdir / "production.env"
    write_env_file(env_file, production_env())
    ports = {name: free_port() for name in PORTS}
    running = Stack(engine, env_file, ports, images)
    running.down()  # what an interrupted earlier run may have left
    ok = False
    try:
        yield running
        ok = True
    finally:
        if not ok:
            logs = running.compose("logs", "--no-color", "--tail", "300", check=False, timeout=120)
            (LOG_DIR / "stack.log").write_text(logs)
            say(f"stack logs kept in {LOG_DIR / 'stack.log'}")
        say("tearing down (containers, networks, volumes)")
        running.down()


def wait_ready(url: str, within_s: float) -> float:
    """Seconds until `url` answers 200."""
    started = time.monotonic()
    while time.monotonic() - started < within_s:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return time.monotonic() - started
        time.sleep(0.25)
    raise CheckError(f"{url} was not ready within {within_s:.0f} s")
