from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from workgroups.access import roles_for


def portal_roles(request: HttpRequest) -> dict:
    """`roles` in every template, lazily: pages whose view already asked pay no query."""
    return {"roles": SimpleLazyObject(lambda: roles_for(getattr(request, "user", None)))}
