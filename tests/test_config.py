"""Settings from the environment: defaults, and clear errors for bad values."""

from __future__ import annotations

import pytest

from bookapi.config import settings_from_env


def test_defaults_apply_to_empty_values() -> None:
    settings = settings_from_env({"BOOKS_TABLE": "", "LOG_LEVEL": ""})

    assert settings["BOOKS_TABLE"] == "books-local"
    assert settings["LOG_LEVEL"] == "INFO"
    assert settings["DYNAMODB_READ_TIMEOUT"] == 2.0
    assert settings["DYNAMODB_MAX_RETRIES"] == 2


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BOOKS_TABLE", "ab"),
        ("BOOKS_TABLE", "books table"),
        ("DYNAMODB_CONNECT_TIMEOUT", "abc"),
        ("DYNAMODB_READ_TIMEOUT", "-1"),
        ("DYNAMODB_READ_TIMEOUT", "0"),
        ("DYNAMODB_READ_TIMEOUT", "nan"),
        ("DYNAMODB_MAX_RETRIES", "-1"),
        ("DYNAMODB_MAX_RETRIES", "1.5"),
        ("LOG_LEVEL", "bogus"),
    ],
)
def test_invalid_setting_names_variable(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=f"^{name}: "):
        settings_from_env({name: value})


def test_log_level_is_case_insensitive() -> None:
    assert settings_from_env({"LOG_LEVEL": "warning"})["LOG_LEVEL"] == "WARNING"
