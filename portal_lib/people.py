"""A person's name as staff know it: the one rule, for screens, workbooks, mails and the API.

Framework-free like portal_lib.era: it reads the user object it is given and imports no app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portal_lib.users import PortalUser

__all__ = ["PROFILE_NAME_CACHE", "display_name"]

# The attribute a reader that already fetched the profile's display name leaves on the user.
PROFILE_NAME_CACHE = "_portal_profile_name"


def display_name(user: PortalUser | None) -> str:
    """The staff profile's display name (表示名), else the account's name (a service account's
    用途, an account made in the admin), else the login name; "" for no user.

    Templates ask it through the ``person`` filter (portal_lib.templatetags.portal_format).
    """
    if user is None:
        return ""
    # The request's user: workgroups.access.roles_for read the profile's name in its query.
    cached = getattr(user, PROFILE_NAME_CACHE, None)
    if cached is not None:
        return cached.strip() or user.get_full_name().strip() or user.get_username()
    # A user without a profile raises RelatedObjectDoesNotExist, an AttributeError.
    profile = getattr(user, "profile", None)
    name = (getattr(profile, "display_name", "") or "") if profile is not None else ""
    return name.strip() or user.get_full_name().strip() or user.get_username()
