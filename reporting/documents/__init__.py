"""Documents the portal writes as Word (.docx) and PDF, one module per document (python-docx,
PDF through portal_lib.office); ``parts`` is what they share."""
