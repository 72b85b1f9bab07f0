"""Logging filters. Imported by gunicorn's config too, so it must not need Django set up."""

import logging
import re

# ``key=...`` in a query string is a private link's secret; ``token``/``password`` may appear
# in other URLs (the two-factor enrolment link's ``token``). The value runs to the next ``&``,
# space, quote or end of line; also when the URL is itself encoded inside another one
# (``?next=/x/%3Ftoken%3D...``, the sign-in's redirect), as ``token%3D...``.
_SECRET_PARAMETER = re.compile(
    r"(?i)(?:\b|(?<=%3F)|(?<=%26))(key|token|password|access_key)(=|%3D)[^&\s\"']*"
)


def redact(text: str) -> str:
    return _SECRET_PARAMETER.sub(lambda match: f"{match[1]}{match[2]}[redacted]", text)


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
