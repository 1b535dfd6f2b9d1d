"""What the OpenAPI schema says besides the 200s: every API operation's error answers.

A drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]) adds
to every operation the answers every view really gives: 400 (a parameter the view refuses,
each named with its reasons), 401 (no, a wrong, an expired or a revoked token), 403 (not
allowed to read this), 404 (not found, or outside the caller's scope, or a page past the
last), 429 (rate limited, with Retry-After). tests/api/test_schemathesis.py holds the
schema to it.
"""

from __future__ import annotations

from typing import Any

ERROR = "Error"
VALIDATION_ERROR = "ValidationError"

_ERROR_SCHEMA = {
    "type": "object",
    "description": "エラーの理由(日本語)。",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
_VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": "受け付けなかったパラメータごとの理由(日本語)。",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
    "minProperties": 1,
}
_ANSWERS = {
    "400": ("パラメータの誤り(パラメータ名ごとの理由)", VALIDATION_ERROR),
    "401": ("認証されていない(トークンがない・誤り・期限切れ・失効)", ERROR),
    "403": ("この情報を読む権限がない", ERROR),
    "404": ("見つからない(読み取り範囲の外、またはページがない)", ERROR),
    "429": ("リクエストが多すぎる(Retry-After 秒後に再試行)", ERROR),
}


def _response(description: str, component: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
    }


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas[ERROR] = _ERROR_SCHEMA
    schemas[VALIDATION_ERROR] = _VALIDATION_ERROR_SCHEMA
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, (description, component) in _ANSWERS.items():
                responses.setdefault(status, _response(description, component))
            responses["429"]["headers"] = {
                "Retry-After": {
                    "schema": {"type": "integer", "minimum": 1},
                    "description": "再試行できるまでの秒数",
                }
            }
    return result
