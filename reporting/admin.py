"""The reporting app's admin pages live with their models (reporting/api/admin.py)."""

from reporting.api import admin as api_admin  # noqa: F401  (registers ApiTokenAdmin)
