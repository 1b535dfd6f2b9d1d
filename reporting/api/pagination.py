"""Page-number pagination with a bounded, checked page size."""

from __future__ import annotations

from django.conf import settings
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request


class ApiPagination(PageNumberPagination):
    """``page`` and ``page_size`` (1 to API_MAX_PAGE_SIZE); anything else is a 400."""

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
        if raw == "":
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {
                    "page_size": [
                        f"page_size は1から{self.max_page_size}までの整数で指定してください"
                        f"(「{raw}」)。"
                    ]
                }
            )
        return int(raw)
