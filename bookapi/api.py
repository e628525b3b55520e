"""flask-smorest's ``Api`` with the problem-details error handling."""

from __future__ import annotations

from flask_smorest import Api
from flask_smorest.utils import prepare_response

from bookapi.errors import PROBLEM_MEDIA_TYPE, ProblemSchema, register_error_handlers


class BookApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        register_error_handlers(self._app)

    def _register_responses(self) -> None:
        """Document the default error response as a problem document.

        flask-smorest registers it as ``application/json``, but every error,
        including a status that an operation does not list, is sent as
        ``application/problem+json``. Registering it again replaces it.
        """
        super()._register_responses()
        response = {"description": "Any other error.", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_MEDIA_TYPE)
        self.spec.components.response(
            self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True
        )
