"""Workbooks the portal writes, one module per workbook (openpyxl/XlsxWriter through portal_lib.sheet_writing)."""
