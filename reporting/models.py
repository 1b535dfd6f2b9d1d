"""The reporting app's models live with the code that uses them (reporting/api/models.py);
Django finds them here."""

from reporting.api.models import ApiToken

__all__ = ["ApiToken"]
