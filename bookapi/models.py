"""The PynamoDB ``Book`` model and its binding to one table per app."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model


class AuthorIndex(GlobalSecondaryIndex["Book"]):
    """Books by exact author, in ``bookId`` order."""

    class Meta:
        index_name = "author-index"
        projection = AllProjection()

    author = UnicodeAttribute(hash_key=True)
    book_id = NumberAttribute(range_key=True, attr_name="bookId")


class GenreIndex(GlobalSecondaryIndex["Book"]):
    """Books by exact genre, in ``bookId`` order."""

    class Meta:
        index_name = "genre-index"
        projection = AllProjection()

    genre = UnicodeAttribute(hash_key=True)
    book_id = NumberAttribute(range_key=True, attr_name="bookId")


class Book(Model):
    """A book in the catalogue, keyed by its numeric ``bookId``.

    This class is never used directly: :func:`bind_book_model` makes a
    subclass bound to one table, endpoint and region, so that several apps
    with different tables can live in one process.
    """

    class Meta:
        table_name = "unbound"

    book_id = NumberAttribute(hash_key=True, attr_name="bookId")
    name = UnicodeAttribute()
    author = UnicodeAttribute(null=True)
    genre = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UnicodeAttribute(attr_name="updatedAt")
    # An opaque token that changes on every write; the book's ETag. A random
    # token, not a counter, so that a book deleted and created again never
    # reuses an ETag that a client may still hold.
    version = UnicodeAttribute()

    # Sparse indexes: a book without an author (or genre) is not in them.
    by_author = AuthorIndex()
    by_genre = GenreIndex()

    def to_dict(self) -> dict[str, Any]:
        """Return the book as its JSON representation, without absent fields."""
        data: dict[str, Any] = {"bookId": int(self.book_id), "name": self.name}
        if self.author is not None:
            data["author"] = self.author
        if self.genre is not None:
            data["genre"] = self.genre
        data["createdAt"] = self.created_at
        data["updatedAt"] = self.updated_at
        data["version"] = self.version
        return data


def bind_book_model(
    table_name: str,
    region: str,
    host: str | None,
    connect_timeout: float,
    read_timeout: float,
    max_retries: int,
) -> type[Book]:
    """Make a ``Book`` subclass bound to one table on one endpoint."""
    meta = type(
        "Meta",
        (),
        {
            "table_name": table_name,
            "region": region,
            "host": host,
            "connect_timeout_seconds": connect_timeout,
            "read_timeout_seconds": read_timeout,
            "max_retry_attempts": max_retries,
            "billing_mode": "PAY_PER_REQUEST",
        },
    )
    return type("BoundBook", (Book,), {"Meta": meta, "__module__": __name__})
