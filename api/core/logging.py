"""Structured JSON logs with the request id; secrets and buyer phone numbers are masked."""

from __future__ import annotations

import contextvars
import logging
import re
import sys
from typing import Any

import orjson

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)

_STANDARD = frozenset(vars(logging.makeLogRecord({})).keys()) | {
    "message",
    "asctime",
    "color_message",
}
_SECRET_KEYS = re.compile(r"token|secret|password|authorization|api_key|sign", re.IGNORECASE)
# Vietnamese phone numbers: 0xxxxxxxxx or +84xxxxxxxxx (9-10 digits after the prefix).
_PHONE = re.compile(r"(?<!\d)(?:\+?84|0)(\d{2})\d{4,6}(\d{3})(?!\d)")


def mask_phone(text: str) -> str:
    """Keep a phone number's first and last digits only: 0912345678 -> 091*****678."""
    return _PHONE.sub(lambda m: m.group(0)[: -len(m.group(2)) - 5] + "*****" + m.group(2), text)


def _clean(key: str, value: Any) -> Any:
    if _SECRET_KEYS.search(key):
        return "***"
    if isinstance(value, str):
        return mask_phone(value)
    return value


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": mask_phone(record.getMessage()),
        }
        rid = request_id_var.get()
        if rid:
            entry["request_id"] = rid
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = _clean(key, value)
        # Tracebacks quote arguments and SQL errors quote rows: mask them like messages.
        if record.exc_info:
            entry["exc"] = mask_phone(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = mask_phone(self.formatStack(record.stack_info))
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str = "INFO") -> None:
    """Send JSON lines to stderr; quiet the access log (metrics count requests instead)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("uvicorn.error").handlers.clear()
    logging.getLogger("uvicorn").handlers.clear()


class RoutineJobFilter(logging.Filter):
    """Drops arq's INFO start/finish lines of the frequent sweeps, and its health lines.

    The sweeps run every few seconds, so their two lines each buried what a person looks for at
    2 a.m. Retries, failures and expiries are logged at other levels or in other words, and
    pass; so do the lines of every other job.
    """

    def __init__(self, quiet_jobs: frozenset[str]) -> None:
        super().__init__("arq.worker")
        # arq names a cron's lines by the cron's name alone (a rung job: "<id>:<name>").
        self._quiet = quiet_jobs

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO:
            return True
        if record.msg == "recording health: %s":
            return False
        if record.msg not in ("%6.2fs → %s(%s)%s", "%6.2fs ← %s ● %s"):
            return True
        args = record.args if isinstance(record.args, tuple) else ()
        ref = str(args[1]) if len(args) > 1 else ""
        return ref not in self._quiet


def quiet_routine_jobs(quiet_jobs: frozenset[str]) -> None:
    """Install `RoutineJobFilter` on arq's worker logger once per process."""
    logger = logging.getLogger("arq.worker")
    if not any(isinstance(f, RoutineJobFilter) for f in logger.filters):
        logger.addFilter(RoutineJobFilter(quiet_jobs))
