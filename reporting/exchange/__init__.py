"""Bulk exchange of the six progress sheets, split the way pretix splits its import code.

- ``columns``: cell parsers, Column and Spec (column types);
- ``sheets``: the six sheet specs;
- ``engine``: reading (bounded), header finding, validation and error collection;
- ``writer``: the service that writes a validated import, with history;
- ``export``: export and empty templates.

Every row is parsed and validated and every error is collected (sheet, row, column, value,
in Japanese); only a file without errors is written, in one transaction, with simple-history's
bulk helpers so that every created or changed row gets its history record naming the
importing user. Rows go through in chunks (``engine.CHUNK_ROWS``): a preview keeps only the
counts, the problems, the first ``engine.PREVIEW_LIMIT`` changes and a fingerprint; the
confirm writes each chunk as it is validated and a problem in a later chunk rolls the whole
transaction back, so memory does not grow with the file. Lookups are loaded once per import
and stored rows are fetched a chunk at a time, so validating 10,000 rows costs a handful of
queries, not 10,000.
"""
