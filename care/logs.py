"""Application logs without personal data: every log record is scrubbed where it is made.

Streamlit prints full exception messages and tracebacks to the console even when the browser
sees none, and an exception message can hold an ID or phone number (a failed insert names its
values, a ValueError repeats its input). A record factory masks them in the message, the
arguments, the traceback text and the stack before any handler formats the record.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from care.audit import scrub_text

_installed = False


def _scrubbing_factory(base: Any) -> Any:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = base(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg, record.args = scrub_text(message), None
        if record.exc_info and record.exc_info[1] is not None:
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            record.exc_text = scrub_text(text)
            # Formatters re-render exc_info only when exc_text is empty; drop it so nothing unscrubbed remains.
            record.exc_info = None
        if record.stack_info:
            record.stack_info = scrub_text(record.stack_info)
        return record

    return factory


def install() -> None:
    """Scrub every log record of this process from now on (idempotent)."""
    global _installed  # noqa: PLW0603 - one process-wide logging set-up
    if _installed:
        return
    logging.setLogRecordFactory(_scrubbing_factory(logging.getLogRecordFactory()))
    _installed = True
