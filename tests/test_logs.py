"""Log lines never carry tokens, whichever way the message was formatted."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from backend.logs import RedactTokens, configure_logging

SECRET = "0123456789abcdef0123456789abcdef01234567"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl-_x"


@pytest.fixture()
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(RedactTokens())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


@pytest.mark.parametrize(
    ("message", "args", "expected"),
    [
        ("access_token=%s", (SECRET,), "access_token=***"),
        ("setup with access_token %s", (SECRET,), "setup with access_token ***"),
        ("Authorization: Token %s", (SECRET,), "Authorization: Token ***"),
        ("Authorization: Bearer %s", (JWT,), "Authorization: Bearer ***"),
        ("headers %s", ({"Authorization": f"Bearer {JWT}"},), "headers {'Authorization': 'Bearer ***'}"),
        ("body %s", ({"access_token": SECRET},), "body {'access_token': '***'}"),
        ('json {"access_token": "%s"}', (SECRET,), 'json {"access_token": "***"}'),
        ("LABEL_STUDIO_API_KEY=%s", (SECRET,), "LABEL_STUDIO_API_KEY=***"),
        ("calling ?token=%s&x=1", (SECRET,), "calling ?token=***&x=1"),
        ("TOKEN: " + SECRET, (), "TOKEN: ***"),
    ],
)
def test_tokens_are_redacted(
    captured: tuple[logging.Logger, io.StringIO], message: str, args: tuple[object, ...], expected: str
) -> None:
    logger, stream = captured
    logger.info(message, *args)
    line = stream.getvalue().strip()
    assert line == expected
    assert SECRET not in line and JWT not in line


def test_ordinary_messages_are_untouched(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.info("project %s: trained on %d labels; tokens per text %s", 3, 120, 17.5)
    assert stream.getvalue().strip() == "project 3: trained on 120 labels; tokens per text 17.5"


def test_redaction_keeps_the_record_usable(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.warning("token=%s and %d more", SECRET, 2)
    logger.warning("again token=%s", SECRET)
    assert stream.getvalue().splitlines() == ["token=*** and 2 more", "again token=***"]


def test_configure_logging_installs_the_redacting_handler(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        configure_logging("WARNING")
        assert root.level == logging.WARNING
        logging.getLogger("backend.something").warning("api_key: %s", SECRET)
        logging.getLogger("backend.something").info("below the level")
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    err = capsys.readouterr().err
    assert "api_key: ***" in err and SECRET not in err
    assert "below the level" not in err
    assert "WARNING" in err and "backend.something" in err
