"""One log format for the web workers, the RQ workers and the CLI."""

from __future__ import annotations

import logging
import re

_TOKEN = re.compile(
    r"(?i)(token|authorization|access_token|api_key|bearer)([\"'=: ]+)"
    r"((?:bearer|token|basic) +)?([A-Za-z0-9._\-+/=]{6,})"
)


class RedactTokens(logging.Filter):
    """Tokens never reach a log line, whatever code formats them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _TOKEN.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3) or ''}***", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"))
    handler.addFilter(RedactTokens())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
