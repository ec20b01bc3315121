import io
import json
import logging

import pytest
from servicedesk.logs import configure_logging


@pytest.fixture(autouse=True)
def restore_root_logger():  # noqa: ANN201
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_with_fields() -> None:
    stream = io.StringIO()
    configure_logging("info", "json", stream)
    logging.getLogger("servicedesk.test").info("hello", extra={"fields": {"port": 3000}})
    logging.getLogger("servicedesk.test").debug("hidden")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["msg"] == "hello" and entry["level"] == "info" and entry["port"] == 3000
    assert entry["logger"] == "servicedesk.test" and entry["ts"].endswith("+00:00")


def test_exceptions_stay_on_one_json_line() -> None:
    stream = io.StringIO()
    configure_logging("warning", "json", stream)
    try:
        raise ValueError("bad")
    except ValueError:
        logging.getLogger("x").exception("failed")
    (line,) = stream.getvalue().splitlines()
    assert "ValueError: bad" in json.loads(line)["exception"]


def test_text_format() -> None:
    stream = io.StringIO()
    configure_logging("info", "text", stream)
    logging.getLogger("x").warning("careful", extra={"fields": {"replicas": 3}})
    assert stream.getvalue().rstrip().endswith("WARNING x careful replicas=3")
