"""`make fuzz`: schemathesis against the served API's own /openapi.json, on a throw-away database.

Not a benchmark: it borrows bench's environment (a fresh database migrated to head and dropped
afterwards, a Redis db of its own, real `phien` processes on a free loopback port). The demo
seed gives an admin token; every phase runs (examples, coverage, fuzzing, stateful) within a
bounded budget, and the run fails on any server error or any answer that breaks the document.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.env import ROOT, free_port, fresh_database, own_redis_db, process, wait_http

# Direct checkout and /webhooks/stripe answer 503 where Stripe is not configured: the fuzzed API
# gets the Stripe simulator, so those operations are fuzzed rather than refused.
STRIPE_KEY, STRIPE_WEBHOOK_SECRET = "sk_test_fuzz", "whsec_fuzz"

MAX_EXAMPLES = os.environ.get("FUZZ_MAX_EXAMPLES", "15")
MAX_TIME_S = os.environ.get("FUZZ_MAX_TIME_S", "90")
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    )
)
# Revoking every token of a user would revoke the fuzzer's own (the seeded admin is user 1).
EXCLUDED = "revoke_tokens_api_v1_users__user_id__tokens_delete"


def _seed(env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "workers.cli", "seed-demo"],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def _schemathesis(base: str, token: str, report: Path) -> int:
    command = [
        str(Path(sys.executable).with_name("schemathesis")), "run", f"{base}/openapi.json",
        "--header", f"Authorization: Bearer {token}",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--checks", CHECKS,
        "--max-examples", MAX_EXAMPLES,
        "--max-time", MAX_TIME_S,
        "--workers", "2",
        "--seed", os.environ.get("FUZZ_SEED", "20261129"),
        "--request-timeout", "20",
        "--exclude-operation-id", EXCLUDED,
        "--generation-database", "none",
        "--suppress-health-check", "all",
        "--report", "junit",
        "--report-junit-path", str(report),
        "--output-truncate", "true",
        "--no-color",
    ]  # fmt: skip
    return subprocess.run(command, cwd=ROOT, check=False).returncode  # noqa: S603


async def main() -> int:
    """Serve a fresh database's API, fuzz it, tear everything down; schemathesis's exit code."""
    async with fresh_database() as db_url, own_redis_db() as redis_url:
        port, stripe_port = free_port(), free_port()
        env = {
            "STRIPE_API_BASE": f"http://127.0.0.1:{stripe_port}",
            "STRIPE_API_KEY": STRIPE_KEY,
            "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_url,
            "PORT": str(port),
            "ENVIRONMENT": "development",
            "LOG_LEVEL": "WARNING",
            # The fuzzer is one client: let it reach the endpoints rather than the limiter
            # (429 stays documented and is tested on its own), and keep its token alive.
            "RATE_LIMIT_PER_ADDRESS": "1000000/minute",
            "RATE_LIMIT_WRITES_PER_TOKEN": "1000000/minute",
            "MAX_LIVE_TOKENS_PER_USER": "1000000",
            # Two fuzzing workers need few connections; a machine shared with test runs can
            # run out of PostgreSQL connections, which the API rightly answers with 503.
            "DB_POOL_SIZE": "4",
            "DB_MAX_OVERFLOW": "2",
        }
        token = _seed(env)
        logs = Path(tempfile.mkdtemp(prefix="phien-fuzz-"))
        stripe = ["simulate", "stripe", "--port", str(stripe_port),
                  "--webhook-url", "http://127.0.0.1:9/unused"]  # fmt: skip
        with process(stripe, env, logs / "stripe.log"), process(["api"], env, logs / "api.log"):
            base = f"http://127.0.0.1:{port}"
            await wait_http(f"{base}/health", within_s=60)
            await wait_http(f"http://127.0.0.1:{stripe_port}/_sim/stats", within_s=60)
            code = await asyncio.to_thread(_schemathesis, base, token, logs / "junit.xml")
        print(f"fuzz: API log and JUnit report in {logs}")
        return code


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
