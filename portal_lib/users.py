"""The portal's user type, named once for annotations.

The settings leave AUTH_USER_MODEL at Django's ``auth.User`` (staff data lives in
``workgroups.StaffProfile``), so the project's user is that class. Annotate a person with
``PortalUser`` and whatever may be a request's visitor with ``RequestUser``, never ``Any``.
Modules import these under ``TYPE_CHECKING`` (their annotations are strings), so nothing
loads the auth models before the app registry is ready.
"""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.models import AnonymousUser, User

PortalUser: TypeAlias = User
RequestUser: TypeAlias = User | AnonymousUser
