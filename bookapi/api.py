"""flask-smorest's ``Api`` with the problem-details error handling."""

from __future__ import annotations

from flask_smorest import Api

from bookapi.errors import PROBLEM_MEDIA_TYPE, ProblemSchema, register_error_handlers


class BookApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        register_error_handlers(self._app)

    def _register_responses(self) -> None:
        """Register the ``default`` response of every operation.

        flask-smorest documents it as ``application/json``, but every error
        (a 405, 413 or 500 included) is sent as problem details. The named
        per-status responses it also registers (``NOT_FOUND``...) are unused
        here, so they are left out.
        """
        self.spec.components.response(
            self.DEFAULT_ERROR_RESPONSE_NAME,
            {
                "description": "Any other error, as problem details.",
                "content": {PROBLEM_MEDIA_TYPE: {"schema": self.ERROR_SCHEMA}},
            },
            lazy=True,
        )
