"""Logging filters. Imported by gunicorn's config too, so it must not need Django set up."""

import logging
import re

# ``key=...`` in a query string is a private link's secret; ``token``/``password`` may appear
# in other URLs. The value runs to the next ``&``, space, quote or end of line.
_SECRET_PARAMETER = re.compile(r"(?i)\b(key|token|password|access_key)=[^&\s\"']*")


def redact(text: str) -> str:
    return _SECRET_PARAMETER.sub(lambda match: f"{match[1]}=[redacted]", text)


class RedactSecretsFilter(logging.Filter):
    """Rewrites each record's message with secret query parameters replaced by ``[redacted]``."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is left for logging's own error handling
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
