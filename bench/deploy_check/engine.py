"""The Docker engine, a BuildKit-capable client and Compose: found, or installed and started."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

LOG_DIR = Path(
    os.environ.get("DEPLOY_CHECK_LOGS", Path(tempfile.gettempdir()) / "phien-deploy-check")
)
# Debian's engine and debootstrap (for base images when Docker Hub is unreachable), by the
# program each one brings; Compose is looked for separately (plugin or Debian's docker-compose).
APT_PACKAGES = {"docker.io": "dockerd", "debootstrap": "debootstrap"}


class CheckError(RuntimeError):
    """The deploy check cannot go on; the message says why."""


def say(message: str) -> None:
    """Progress on stderr, so stdout keeps only the table."""
    print(f"[deploy-check {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(
    args: list[str],
    *,
    timeout: float,
    env: dict[str, str] | None = None,
    check: bool = True,
    log: str | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command with a time limit; its output goes to a log file when it is long."""
    out = (LOG_DIR / log).open("a") if log else None
    try:
        done = subprocess.run(  # noqa: S603 - fixed tools with our own arguments
            args,
            env={**os.environ, **(env or {})},
            stdout=out or subprocess.PIPE,
            stderr=out or subprocess.PIPE,
            text=True,
            timeout=timeout,
            check=False,
            cwd=cwd,
        )
    except subprocess.TimeoutExpired as exc:
        raise CheckError(f"{' '.join(args[:4])} … took longer than {timeout:.0f} s") from exc
    finally:
        if out:
            out.close()
    if check and done.returncode != 0:
        where = f"see {LOG_DIR / log}" if log else (done.stderr or done.stdout or "")[-2000:]
        raise CheckError(f"{' '.join(args[:4])} … exited {done.returncode}: {where}")
    return done


def _major(version: str) -> int:
    try:
        return int(version.strip().split(".")[0])
    except ValueError:
        return 0


@dataclass
class Engine:
    """How to talk to the engine, and what this check started (to stop it again)."""

    docker: str  # a client that builds with BuildKit (secrets, cache mounts)
    compose: list[str]
    started_dockerd: subprocess.Popen[bytes] | None = None
    installed: list[str] = field(default_factory=list)

    def d(self, *args: str, timeout: float = 120, check: bool = True) -> str:
        """`docker ARGS`, stdout stripped."""
        return run([self.docker, *args], timeout=timeout, check=check).stdout.strip()

    def stop(self) -> None:
        """Stop the engine if this check started it (images stay cached on disk)."""
        if self.started_dockerd is None:
            return
        say("stopping the Docker engine this check started")
        self.started_dockerd.terminate()
        try:
            self.started_dockerd.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.started_dockerd.kill()


def _engine_answers(client: str) -> bool:
    return run([client, "info"], timeout=30, check=False).returncode == 0


def _apt_install(packages: list[str]) -> None:
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise CheckError(f"missing {packages}; install them (Debian: apt-get install) and rerun")
    say(f"installing {' '.join(packages)} from Debian")
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    # Another process may hold apt's locks for a while: wait for it rather than fail.
    for attempt in range(6):
        if (
            run(
                ["apt-get", "update", "-q"], timeout=300, env=env, check=False, log="apt.log"
            ).returncode
            == 0
        ):
            break
        time.sleep(10 * (attempt + 1))
    args = ["apt-get", "-o", "DPkg::Lock::Timeout=300", "install", "-y", "-q"]
    run([*args, "--no-install-recommends", *packages], timeout=900, env=env, log="apt.log")


def _buildkit_client() -> str | None:
    """A client that runs BuildKit builds: one with buildx, or Debian's 20.10 (built in)."""
    for client in dict.fromkeys([shutil.which("docker"), "/usr/bin/docker"]):
        if not client or not Path(client).exists():
            continue
        version = run([client, "version", "-f", "{{.Client.Version}}"], timeout=30, check=False)
        if _major(version.stdout) and _major(version.stdout) < 23:
            return client
        if run([client, "buildx", "version"], timeout=30, check=False).returncode == 0:
            return client
    return None


def _compose(docker: str) -> list[str] | None:
    if run([docker, "compose", "version"], timeout=30, check=False).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def _start_dockerd(client: str) -> subprocess.Popen[bytes]:
    dockerd = shutil.which("dockerd") or "/usr/sbin/dockerd"
    say("starting the Docker engine (dockerd)")
    log = (LOG_DIR / "dockerd.log").open("ab")
    proc = subprocess.Popen(  # noqa: S603 - the engine, no arguments from input
        [dockerd], stdout=log, stderr=log, start_new_session=True
    )
    deadline = time.monotonic() + 90
    while not _engine_answers(client):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise CheckError(f"dockerd did not come up; see {LOG_DIR / 'dockerd.log'}")
        time.sleep(1)
    return proc


def ensure_engine() -> Engine:
    """Find or install the engine, a BuildKit client, Compose and debootstrap; start dockerd."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    missing = [
        pkg
        for pkg, tool in APT_PACKAGES.items()
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists()
    ]
    if _buildkit_client() is None and "docker.io" not in missing:
        missing.append("docker.io")
    if missing:
        _apt_install(missing)
    client = _buildkit_client()
    if client is None:
        raise CheckError("no Docker client that builds with BuildKit (install buildx)")
    if _compose(client) is None:
        missing.append("docker-compose")
        _apt_install(["docker-compose"])
    compose = _compose(client)
    if compose is None:
        raise CheckError("no Docker Compose (docker compose or docker-compose)")
    started = None if _engine_answers(client) else _start_dockerd(client)
    return Engine(client, compose, started, missing)
