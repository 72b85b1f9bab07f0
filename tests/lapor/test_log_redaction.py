"""The redaction filter that every log handler (Django's and gunicorn's) passes records through."""

import io
import logging

from lapor.logging import RedactSecretsFilter, redact

SECRET = "Zq3v-8Xw_secretKEY"


def logged(*args, exc: Exception | None = None) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecretsFilter())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        if exc is None:
            logger.warning(*args)
        else:
            try:
                raise exc
            except Exception:
                logger.exception(*args)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_access_log_lines_lose_the_key_and_keep_the_rest():
    line = logged('"%s" %s %s', f"GET /complaints/LPR-2345-6789/?key={SECRET}&x=1 HTTP/1.1", 302, 0)
    assert SECRET not in line
    assert '"GET /complaints/LPR-2345-6789/?key=[redacted]&x=1 HTTP/1.1" 302 0' in line


def test_gunicorn_error_lines_and_tracebacks_lose_the_key():
    text = logged(
        "Error handling request %s",
        f"/complaints/LPR-2345-6789/?key={SECRET}",
        exc=ValueError(f"bad url /complaints/x/?key={SECRET}"),
    )
    assert SECRET not in text
    assert "Error handling request /complaints/LPR-2345-6789/?key=[redacted]" in text
    assert "ValueError" in text


def test_other_secret_parameters_and_percent_signs():
    assert redact("/reset/?token=abc&password=hunter2 100%") == (
        "/reset/?token=[redacted]&password=[redacted] 100%"
    )
    assert redact("/complaints/?monkey=1") == "/complaints/?monkey=1"


def test_a_secret_inside_an_encoded_next_is_redacted_too():
    line = '"GET /accounts/login/?next=/accounts/two-factor/enrol/%3Ftoken%3Dabc:def HTTP/1.1"'
    assert redact(line) == (
        '"GET /accounts/login/?next=/accounts/two-factor/enrol/%3Ftoken%3D[redacted] HTTP/1.1"'
    )
