from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from portal_lib.people import display_name
from workgroups.access import roles_for


def _user_name(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    roles_for(user)  # its one query also reads the display name
    return display_name(user) if user is not None and user.is_authenticated else ""


def portal_roles(request: HttpRequest) -> dict:
    """`roles` and `user_name` (the header's name, portal_lib.people.display_name) in every
    template, lazily: pages whose view already asked pay no query."""
    return {
        "roles": SimpleLazyObject(lambda: roles_for(getattr(request, "user", None))),
        "user_name": SimpleLazyObject(lambda: _user_name(request)),
    }
