"""Bulk exchange of the six progress sheets, split the way pretix splits its import code.

- ``columns``: cell parsers, Column and Spec (column types);
- ``sheets``: the six sheet specs;
- ``engine``: reading (bounded), header finding, validation and error collection;
- ``writer``: the service that writes a validated import, with history;
- ``export``: export and empty templates.

Every row is parsed and validated first and every error is collected (sheet, row, column,
value, in Japanese); only a file without errors can be written, in one transaction, with
simple-history's bulk helpers so that every created or changed row gets its history record
naming the importing user. Lookups are loaded once per import, so validating 10,000 rows costs
a handful of queries, not 10,000.
"""
