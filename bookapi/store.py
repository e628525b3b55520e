"""Reads and conditional writes of books, each one DynamoDB call.

Every write is a single UpdateItem or DeleteItem whose condition expression
DynamoDB evaluates inside the write, so two clients can never both win a race
on one version of a book.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.exceptions import DeleteError, PynamoDBException, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from bookapi.models import Book

OPTIONAL_FIELDS = ("author", "genre")
CONDITION_FAILED = "ConditionalCheckFailedException"


class BookNotFound(Exception):
    """No book has the requested id."""


class PreconditionFailed(Exception):
    """A conditional write found the book in another state than required."""


@dataclass(frozen=True)
class Page:
    """One page of books, and the DynamoDB key to continue after, if any."""

    books: list[Book]
    next_key: dict[str, Any] | None


@dataclass(frozen=True)
class WriteResult:
    """A stored book and whether the write created it."""

    book: Book
    created: bool


def utc_now() -> str:
    """Return the current UTC time in ISO 8601 with milliseconds."""
    now = datetime.now(UTC)
    return now.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def key(book_id: int) -> str:
    """Serialize a book id as the low-level connection expects a Number key."""
    return str(book_id)


def new_version() -> str:
    return uuid.uuid4().hex


def is_condition_failure(error: PynamoDBException) -> bool:
    """Tell whether DynamoDB rejected a write because its condition was false.

    PynamoDB 6.1's ``cause_response_code`` raises AttributeError when the cause is
    a botocore error with ``response=None`` (a read timeout or a dropped
    connection), so the code is read from the ClientError here.
    """
    cause = error.cause
    if not isinstance(cause, ClientError):
        return False
    code: str | None = cause.response.get("Error", {}).get("Code")
    return code == CONDITION_FAILED


@dataclass(frozen=True)
class Precondition:
    """The conditions of ``If-Match`` and ``If-None-Match: *`` on a write.

    ``versions`` are the entity tags of If-Match, one of which the stored
    version must equal. ``exists`` True requires the book to exist
    (If-Match: *), and False requires it not to (If-None-Match: *).
    """

    versions: frozenset[str] = frozenset()
    exists: bool | None = None

    def to_condition(self, model: type[Book]) -> Condition | None:
        condition: Condition | None = None
        if self.exists is True:
            condition = model.book_id.exists()
        elif self.exists is False:
            condition = model.book_id.does_not_exist()
        if self.versions:
            matches = model.version.is_in(*sorted(self.versions))
            condition = matches if condition is None else condition & matches
        return condition


NO_PRECONDITION = Precondition()


class BookStore:
    """Book operations on one bound ``Book`` model."""

    def __init__(self, model: type[Book]) -> None:
        self.model = model

    def connect(self) -> None:
        """Create the DynamoDB client now, without a network call.

        PynamoDB otherwise creates it on the first request. On Lambda, calling
        this at import time moves that cost into the init phase.
        """
        self.model._get_connection().connection.client  # noqa: B018

    def get(self, book_id: int) -> Book:
        """Read a book with a strongly consistent read."""
        try:
            return self.model.get(book_id, consistent_read=True)
        except self.model.DoesNotExist:
            raise BookNotFound(book_id) from None

    def page(
        self,
        limit: int,
        start_key: dict[str, Any] | None = None,
        *,
        author: str | None = None,
        genre: str | None = None,
    ) -> Page:
        """Read one page of books: all of them, or those of an author or genre.

        Author and genre pages are a Query on their global secondary index, in
        ``bookId`` order; the whole catalogue is a Scan in storage order. Both
        read at most ``limit + 1`` items, whatever the size of the table; the
        extra item only shows whether another page follows.
        """
        model = self.model
        options: dict[str, Any] = {
            "limit": limit + 1,
            "page_size": limit + 1,
            "last_evaluated_key": start_key,
        }
        if author is not None:
            results = model.by_author.query(author, **options)
        elif genre is not None:
            results = model.by_genre.query(genre, **options)
        else:
            results = model.scan(**options)
        books = list(results)
        if len(books) <= limit:
            return Page(books=books, next_key=None)

        books = books[:limit]
        last = books[-1]
        next_key: dict[str, Any] = {"bookId": {"N": key(int(last.book_id))}}
        if author is not None:
            next_key["author"] = {"S": last.author}
        elif genre is not None:
            next_key["genre"] = {"S": last.genre}
        return Page(books=books, next_key=next_key)

    def put(
        self,
        book_id: int,
        fields: Mapping[str, Any],
        precondition: Precondition = NO_PRECONDITION,
    ) -> WriteResult:
        """Create or replace a whole book in one UpdateItem.

        Optional fields missing from ``fields`` are removed and ``createdAt``
        survives a replacement. A failed precondition raises
        :class:`PreconditionFailed`, also when the book does not exist, as
        RFC 9110 has it for a PUT that would otherwise create the book.
        """
        model = self.model
        now = utc_now()
        version = new_version()
        actions: list[Action] = [model.name.set(fields["name"])]
        for name in OPTIONAL_FIELDS:
            attribute = getattr(model, name)
            value = fields.get(name)
            actions.append(
                attribute.remove() if value is None else attribute.set(value)
            )
        actions += [
            model.created_at.set(model.created_at | now),
            model.updated_at.set(now),
            model.version.set(version),
        ]

        try:
            data = model._get_connection().update_item(
                key(book_id),
                actions=actions,
                condition=precondition.to_condition(model),
                return_values="ALL_OLD",
            )
        except UpdateError as error:
            if not is_condition_failure(error):
                raise
            own = self._find(book_id)
            if own is None or own.version != version:
                raise PreconditionFailed(book_id) from None
            # A retry failed its condition against this call's own earlier
            # attempt, whose response was lost (see _find).
            return WriteResult(book=own, created=own.created_at == now)

        old = data.get("Attributes")
        if old and old["version"]["S"] == version:
            # The retry replaced this call's own earlier attempt, which had
            # created the book if it set createdAt.
            created = old["createdAt"]["S"] == now
        else:
            created = not old
        created_at = old["createdAt"]["S"] if old else now
        book = model(
            book_id,
            name=fields["name"],
            author=fields.get("author"),
            genre=fields.get("genre"),
            created_at=created_at,
            updated_at=now,
            version=version,
        )
        return WriteResult(book=book, created=created)

    def patch(
        self,
        book_id: int,
        changes: Mapping[str, Any],
        precondition: Precondition = NO_PRECONDITION,
    ) -> Book:
        """Change only the given fields of an existing book in one UpdateItem.

        A ``None`` value removes an optional field. Raises
        :class:`BookNotFound` when there is no such book.
        """
        model = self.model
        actions: list[Action] = []
        for name, value in changes.items():
            attribute = getattr(model, name)
            actions.append(
                attribute.remove() if value is None else attribute.set(value)
            )
        version = new_version()
        actions += [model.updated_at.set(utc_now()), model.version.set(version)]

        condition = model.book_id.exists()
        extra = precondition.to_condition(model)
        if extra is not None:
            condition = condition & extra

        try:
            data = model._get_connection().update_item(
                key(book_id),
                actions=actions,
                condition=condition,
                return_values="ALL_NEW",
            )
        except UpdateError as error:
            if not is_condition_failure(error):
                raise
            stored = self._find(book_id)
            if stored is None:
                raise BookNotFound(book_id) from None
            if stored.version != version:
                raise PreconditionFailed(book_id) from None
            # This call's own earlier attempt stored the change (see _find).
            return stored
        return model.from_raw_data(data["Attributes"])

    def delete(
        self, book_id: int, precondition: Precondition = NO_PRECONDITION
    ) -> Book:
        """Delete a book and return it as it was just before."""
        model = self.model
        try:
            data = model._get_connection().delete_item(
                key(book_id),
                condition=precondition.to_condition(model),
                return_values="ALL_OLD",
            )
        except DeleteError as error:
            if is_condition_failure(error):
                raise self._explain_condition_failure(book_id) from None
            raise
        old = data.get("Attributes")
        if not old:
            raise BookNotFound(book_id)
        return model.from_raw_data(old)

    def _find(self, book_id: int) -> Book | None:
        """Read a book after a write failed its condition, or return None.

        botocore retries a write whose response was lost (a read timeout or a
        reset connection). When the lost attempt had been applied, the retry
        fails its condition against that very write. Only this call has the
        random version it wrote, so a stored book with that version means the
        write succeeded.
        """
        try:
            return self.get(book_id)
        except BookNotFound:
            return None

    def _explain_condition_failure(self, book_id: int) -> Exception:
        """Tell a missing book from a changed one after a failed condition.

        DynamoDB evaluated the condition inside the write; this read only
        chooses between 404 and 412 for the response.
        """
        try:
            self.get(book_id)
        except BookNotFound as missing:
            return missing
        return PreconditionFailed(book_id)
