"""Base images (public ones, or built once from Debian's packages and kept), the app and the LB."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.deploy_check.engine import LOG_DIR, CheckError, Engine, run, say

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SUITE = "bookworm"
MIRROR = os.environ.get("DEBIAN_MIRROR", "http://deb.debian.org/debian")
SECURITY_MIRROR = os.environ.get("DEBIAN_SECURITY_MIRROR", "http://deb.debian.org/debian-security")
# What the Dockerfile and the compose file default to, and the stand-in built from Debian.
PUBLIC = {"debian": "debian:bookworm-slim", "python": "python:3.11-slim",
          "postgres": "postgres:16", "redis": "redis:7"}  # fmt: skip
LOCAL = {"debian": "phien-local/debian:bookworm", "python": "phien-local/python:3.11-bookworm",
         "postgres": "phien-local/postgres:15-bookworm", "redis": "phien-local/redis:7-bookworm"}  # fmt: skip
APP_IMAGE, LB_IMAGE = "phien:latest", "phien-lb:latest"
# Like the public slim images: no manuals, docs or translations, now or in later apt installs.
DPKG_SLIM = """path-exclude /usr/share/doc/*
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
"""


def _exists(engine: Engine, image: str) -> bool:
    return bool(engine.d("images", "-q", image, timeout=60))


def _pull(engine: Engine, image: str) -> bool:
    if os.environ.get("DEPLOY_CHECK_PULL", "1") == "0":
        return False
    say(f"pulling {image}")
    done = run([engine.docker, "pull", image], timeout=600, check=False, log="pull.log")
    return done.returncode == 0


def _trim(rootfs: Path) -> None:
    for junk in ["var/cache/apt", "var/lib/apt/lists", "usr/share/doc", "usr/share/man",
                 "usr/share/info"]:  # fmt: skip
        for child in (rootfs / junk).glob("*"):
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    for child in (rootfs / "usr/share/locale").glob("*"):
        if child.name != "locale.alias":
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    (rootfs / "etc/dpkg/dpkg.cfg.d/phien-slim").write_text(DPKG_SLIM)
    (rootfs / "etc/apt/sources.list").write_text(
        f"deb {MIRROR} {SUITE} main\ndeb {MIRROR} {SUITE}-updates main\n"
        f"deb {SECURITY_MIRROR} {SUITE}-security main\n"
    )


def _debootstrap(engine: Engine, tag: str) -> None:
    """A minimal Debian root file system from Debian's packages, imported as an image."""
    if shutil.which("debootstrap") is None:
        raise CheckError("debootstrap is needed to build the Debian base image")
    say(f"building {tag} with debootstrap (a few minutes, once)")
    with tempfile.TemporaryDirectory(prefix="phien-rootfs-", dir="/var/tmp") as tmp:
        rootfs = Path(tmp) / "rootfs"
        run(["debootstrap", "--variant=minbase", SUITE, str(rootfs), MIRROR],
            timeout=1200, log="debootstrap.log")  # fmt: skip
        _trim(rootfs)
        tar = subprocess.Popen(  # noqa: S603 - tar of our own directory
            [shutil.which("tar") or "/bin/tar", "--numeric-owner", "-C", str(rootfs), "-c", "."],
            stdout=subprocess.PIPE,
        )
        label = f"org.opencontainers.image.created={time.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        imported = subprocess.run(  # noqa: S603 - the engine with fixed arguments
            [engine.docker, "import", "-c", 'CMD ["bash"]', "-c", f"LABEL {label}", "-", tag],
            stdin=tar.stdout, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        tar.wait(timeout=60)
        if imported.returncode != 0 or tar.returncode != 0:
            raise CheckError(f"docker import failed: {imported.stderr[-1000:]}")


def _build(
    engine: Engine, tag: str, context: Path, args: dict[str, str], secret: Path | None = None
) -> str:
    """A BuildKit build; returns its plain progress output."""
    cmd = [engine.docker, "build", "--progress=plain", "-t", tag]
    cmd += [f"--build-arg={k}={v}" for k, v in args.items()]
    if secret is not None:
        cmd.append(f"--secret=id=ca,src={secret}")
    if os.environ.get("DEPLOY_CHECK_NO_CACHE") == "1" and tag == APP_IMAGE:
        cmd.append("--no-cache")
    log = LOG_DIR / f"build-{tag.replace('/', '_').replace(':', '_')}.log"
    before = engine.d("images", "-q", tag, timeout=60)
    done = run([*cmd, str(context)], timeout=1500, env={"DOCKER_BUILDKIT": "1"}, check=False)
    log.write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise CheckError(f"building {tag} failed; see {log}")
    if before and before != engine.d("images", "-q", tag, timeout=60):
        # The image this build replaced: repeated runs must not fill the disk.
        engine.d("rmi", before, check=False)
    return done.stdout + done.stderr


def base_image(engine: Engine, kind: str, debian: str | None = None) -> str:
    """The public image if it is here or can be pulled, else the one built from Debian."""
    public, local = PUBLIC[kind], LOCAL[kind]
    rebuild = os.environ.get("DEPLOY_CHECK_REBUILD_BASE") == "1"
    if _exists(engine, public):
        return public
    if _exists(engine, local) and not rebuild:
        return local
    if _pull(engine, public):
        return public
    if kind == "debian":
        _debootstrap(engine, local)
    else:
        say(f"building {local} from Debian's packages (once)")
        _build(engine, local, DEPLOY / kind, {"DEBIAN_IMAGE": debian or LOCAL["debian"]})
    return local


def ca_bundle() -> Path | None:
    """The CA bundle handed to the build as a secret (the host's, which trusts its proxy)."""
    for candidate in [os.environ.get("DEPLOY_CHECK_CA_BUNDLE"), os.environ.get("SSL_CERT_FILE"),
                      "/etc/ssl/certs/ca-certificates.crt"]:  # fmt: skip
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


@dataclass
class Images:
    """The images the stack runs on, and what building the app image cost."""

    base: dict[str, str]
    build_seconds: float
    steps_cached: int
    steps: int
    size_bytes: int


def build_all(engine: Engine) -> Images:
    """Resolve the base images, then build the app image (timed) and the load balancer."""
    debian = base_image(engine, "debian")
    base = {"debian": debian}
    for kind in ["python", "postgres", "redis"]:
        base[kind] = base_image(engine, kind, debian)
    say(f"building {APP_IMAGE} from {base['python']}")
    started = time.monotonic()
    output = _build(engine, APP_IMAGE, ROOT, {"PYTHON_IMAGE": base["python"]}, ca_bundle())
    seconds = time.monotonic() - started
    _build(engine, LB_IMAGE, DEPLOY / "haproxy", {"DEBIAN_IMAGE": debian})
    steps = {line.split()[0] for line in output.splitlines() if line.startswith("#")}
    cached = sum(1 for line in output.splitlines() if line.startswith("#") and "CACHED" in line)
    size = int(engine.d("image", "inspect", "-f", "{{.Size}}", APP_IMAGE))
    return Images(base, seconds, cached, len(steps), size)
