"""Page-number pagination with a bounded, checked page size."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

from portal_lib.params import parse_ascii_int

MAX_PAGE = 1_000_000  # far beyond any list here; the schema states it


class ApiPagination(PageNumberPagination):
    """``page`` (1 to MAX_PAGE) and ``page_size`` (1 to API_MAX_PAGE_SIZE), ASCII digits
    only (portal_lib.params); anything else is a 400, a page past the last one a 404."""

    page_size = settings.API_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE
    invalid_page_message = "ページ「{page_number}」はありません。"
    page_query_description = "ページ番号(1から)"
    page_size_query_description = (
        f"1ページの件数(1〜{settings.API_MAX_PAGE_SIZE}、省略時は{settings.API_PAGE_SIZE})"
    )

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param, "")
        try:
            return parse_ascii_int(
                raw, default=self.page_size, minimum=1, maximum=self.max_page_size
            )
        except ValueError:
            raise ValidationError(
                {
                    "page_size": [
                        f"page_size は1から{self.max_page_size}までの整数で指定してください"
                        f"(「{raw}」)。"
                    ]
                }
            ) from None

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        raw = request.query_params.get(self.page_query_param, "")
        try:
            parse_ascii_int(raw, default=1, minimum=1, maximum=MAX_PAGE)
        except ValueError:
            raise ValidationError(
                {"page": [f"page は1から{MAX_PAGE}までの整数で指定してください(「{raw}」)。"]}
            ) from None
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        """page and page_size with the bounds they are checked against."""
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.page_query_param: {"minimum": 1, "maximum": MAX_PAGE},
            self.page_size_query_param: {"minimum": 1, "maximum": self.max_page_size},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters
