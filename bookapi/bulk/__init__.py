"""Bulk import and export of books, behind ``flask books import`` and ``export``.

- :mod:`~bookapi.bulk.sources` reads CSV, JSON and JSON Lines files record by
  record, with the line number where each record starts.
- :mod:`~bookapi.bulk.rows` maps columns to book fields and validates each
  record with the API's own schema.
- :mod:`~bookapi.bulk.writer` writes batches of 25 with BatchWriteItem,
  retrying with exponential backoff and jitter.
- :mod:`~bookapi.bulk.importer` runs an import with parallel workers, a
  problem report and a checkpoint for ``--resume``.
- :mod:`~bookapi.bulk.exporter` streams the table to JSON Lines or CSV.
"""
