"""flask-smorest's ``Api`` with the problem-details error handling."""

from __future__ import annotations

from flask_smorest import Api

from bookapi.errors import ProblemSchema, register_error_handlers


class BookApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        register_error_handlers(self._app)
