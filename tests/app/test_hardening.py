"""Hardened configuration: no error details in the browser, no personal data in the console log."""

from __future__ import annotations

import io
import logging
import tomllib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from care import logs

ROOT = Path(__file__).resolve().parents[2]
ID_NUMBER = "522699201603010039"
PHONE = "13800001234"


@pytest.mark.parametrize(
    ("section", "option", "value"),
    [
        ("client", "showErrorDetails", "none"),
        ("client", "toolbarMode", "minimal"),
        ("client", "disableDataExport", True),
        ("server", "maxUploadSize", 20),
        ("server", "enableStaticServing", True),
        ("browser", "gatherUsageStats", False),
        ("logger", "enableRich", False),
    ],
)
def test_the_streamlit_configuration_is_hardened(section, option, value):
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config[section][option] == value


def _failing_page() -> None:
    import streamlit as st

    from care import logs

    logs.install()
    st.title("x")
    raise ValueError("duplicate id_number 522699201603010039, phone 13800001234")


def test_an_unexpected_error_shows_no_exception_text_in_the_page():
    at = AppTest.from_function(_failing_page, default_timeout=30).run()
    (shown,) = at.exception
    page = " ".join([shown.message, *shown.stack_trace])
    assert ID_NUMBER not in page and PHONE not in page
    assert "ValueError" not in page and "duplicate" not in page


def test_the_console_log_of_an_unexpected_error_holds_no_id_or_phone():
    # Streamlit logs the uncaught exception on this logger; listen as its console handler does.
    console = io.StringIO()
    handler = logging.StreamHandler(console)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logger = logging.getLogger("streamlit.error_util")
    logger.addHandler(handler)
    try:
        AppTest.from_function(_failing_page, default_timeout=30).run()
    finally:
        logger.removeHandler(handler)
    err = console.getvalue()
    assert "Uncaught app execution" in err and "ValueError: duplicate id_number" in err
    assert ID_NUMBER not in err and PHONE not in err
    assert "522699********0039" in err and "138****1234" in err


def test_any_log_line_is_scrubbed_in_its_message_arguments_and_traceback(caplog):
    logs.install()
    logger = logging.getLogger("caremap.test")
    with caplog.at_level(logging.INFO, logger="caremap.test"):
        logger.info("saved %s with phone %s", ID_NUMBER, PHONE)
        try:
            raise RuntimeError(f"failed for {ID_NUMBER}")
        except RuntimeError:
            logger.exception("import row failed")
    text = caplog.text
    assert ID_NUMBER not in text and PHONE not in text
    assert "522699********0039" in text and "failed for" in text
