"""A look inside the app image: who it runs as, and that no secret and no private CA is in it.

The CA bundle handed to the build as a secret holds the public roots plus the private CA of the
proxy in front of the registries. The private ones are those neither Debian's Mozilla set nor
certifi carries; every file of the image is searched for each of them, and for every secret of
the run's env file.
"""

from __future__ import annotations

import re
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import certifi

from bench.deploy_check.engine import CheckError, Engine

PEM = re.compile(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.DOTALL)
MOZILLA = Path("/usr/share/ca-certificates/mozilla")
LARGEST_FILE = 256 * 1024 * 1024


def certificates(text: str) -> set[str]:
    """The base64 bodies of the PEM certificates in `text`, whitespace removed."""
    return {"".join(body.split()) for body in PEM.findall(text)}


def private_cas(bundle: Path) -> set[str]:
    """Certificates of `bundle` that no public root store carries."""
    public = certificates(Path(certifi.where()).read_text())
    for crt in MOZILLA.glob("*.crt"):
        public |= certificates(crt.read_text(errors="replace"))
    return certificates(bundle.read_text(errors="replace")) - public


@dataclass
class Scan:
    """What the look inside found."""

    user: str
    files: int = 0
    private_cas: int = 0
    found: list[str] = field(default_factory=list)


def scan_image(engine: Engine, image: str, bundle: Path | None, secrets: list[str]) -> Scan:
    """Search every file of `image` for the bundle's private CAs and for `secrets`."""
    cas = private_cas(bundle) if bundle else set()
    # A PEM file holds the body in 64-character lines: the first line is enough to spot one.
    needles = {f"CA {body[:16]}…": body[:64].encode() for body in cas}
    needles |= {f"secret {value[:4]}…": value.encode() for value in secrets if len(value) >= 16}
    result = Scan(engine.d("image", "inspect", "-f", "{{.Config.User}}", image), 0, len(cas))
    cid = engine.d("create", image)
    try:
        export = subprocess.Popen(  # noqa: S603 - the engine with fixed arguments
            [engine.docker, "export", cid], stdout=subprocess.PIPE
        )
        assert export.stdout is not None
        with tarfile.open(fileobj=export.stdout, mode="r|") as tar:
            for member in tar:
                if member.name.lstrip("./").startswith("run/secrets/"):
                    result.found.append(f"{member.name} (a secret mount left behind)")
                if not member.isfile() or member.size > LARGEST_FILE:
                    continue
                handle = tar.extractfile(member)
                data = handle.read() if handle else b""
                result.files += 1
                result.found += [f"{name} in /{member.name}" for name, needle in needles.items()
                                 if needle in data]  # fmt: skip
        if export.wait(timeout=300) != 0:
            raise CheckError(f"docker export of {image} failed")
    finally:
        engine.d("rm", "-f", cid, check=False)
    return result
