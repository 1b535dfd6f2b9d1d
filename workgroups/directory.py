"""Sign-in with the city's directory (LDAP / Active Directory) beside the portal's passwords.

City staff sign in to their PCs with the office's Active Directory; the portal lets them use
the same user name and password (issue 23). django-auth-ldap does the LDAP work: it binds
with the service account (AUTH_LDAP_BIND_DN), searches AUTH_LDAP_USER_SEARCH_BASE with
AUTH_LDAP_USER_SEARCH_FILTER (``(sAMAccountName=%(user)s)`` for AD, ``(uid=%(user)s)`` for
OpenLDAP), then binds as the entry found with the password typed, over StartTLS or ldaps.

The directory only authenticates. The person is the portal's own, found by the entry's
職員番号 (DIRECTORY_STAFF_NUMBER_ATTR, e.g. ``employeeNumber``, against
``StaffProfile.staff_number``, which the roster import fills) or else by its mail address
(DIRECTORY_EMAIL_ATTR): someone imported from the roster signs in on day one without a
portal password. Nothing is copied from the directory and no account is ever created: an
entry with no person, or with an inactive one, is refused with a Japanese message (shown
only after the directory accepted the password, so the message tells a guesser nothing).

The two backends (settings.AUTHENTICATION_BACKENDS, after axes): `LocalPasswordBackend`
first, Django's passwords under `workgroups.access.may_use_local_password`
(LOCAL_PASSWORD_LOGIN), so a local account never waits for a directory that does not
answer; then `DirectoryBackend`. Both run inside ``django.contrib.auth.authenticate``, so
axes' lockout and the login throttles (portal_lib.login_throttle) count directory failures
as any other, and the login view's second step (portal_lib.two_factor) follows either.

Why a login was refused is left on the request (`refusal_message`), for the login form.
Every LDAP call is bounded by DIRECTORY_TIMEOUT_SECONDS (connect and each operation).
"""

from __future__ import annotations

import logging
import unicodedata
from typing import TYPE_CHECKING, Any

import ldap
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest
from django.utils.translation import gettext_lazy
from django_auth_ldap.backend import LDAPBackend, ldap_error
from django_auth_ldap.config import LDAPSearch

from workgroups.access import (
    MSG_LOCAL_PASSWORD_OFF,
    directory_login_on,
    may_use_local_password,
    may_use_screens,
)

if TYPE_CHECKING:
    from portal_lib.users import PortalUser

logger = logging.getLogger(__name__)

REFUSAL_ATTR = "portal_login_refusal"
UNREACHABLE = "unreachable"
DIRECTORY_ERROR = "directory_error"
NO_PERSON = "no_person"
INACTIVE = "inactive"
LOCAL_OFF = "local_off"
# Errors that mean "the directory did not answer" (down, refused, timed out, TLS failed).
_UNREACHABLE_ERRORS = (
    ldap.SERVER_DOWN,
    ldap.TIMEOUT,
    ldap.CONNECT_ERROR,
    ldap.UNAVAILABLE,
    ldap.BUSY,
)
MAX_USERNAME = 256

MESSAGES = {
    UNREACHABLE: gettext_lazy(
        "ディレクトリサーバーに接続できません。しばらくしてからもう一度お試しください。"
        "ポータルのパスワードをお持ちの方(事務局・管理者)は、そのパスワードでログインできます。"
    ),
    DIRECTORY_ERROR: gettext_lazy(
        "ディレクトリサーバーでの確認に失敗しました。情報推進課(DX推進事務局)へお知らせください。"
    ),
    NO_PERSON: gettext_lazy(
        "ディレクトリのアカウントは確認できましたが、ポータルに対応する職員が登録されていません"
        "(職員番号またはメールアドレスで照合します)。"
        "情報推進課(DX推進事務局)へ職員名簿への登録を依頼してください。"
    ),
    INACTIVE: gettext_lazy(
        "このアカウントは無効になっています。情報推進課(DX推進事務局)へお問い合わせください。"
    ),
    LOCAL_OFF: MSG_LOCAL_PASSWORD_OFF,
}


def refuse(request: HttpRequest | None, kind: str) -> None:
    """Note why this login was refused; the first reason stays (the local one comes first)."""
    if request is not None and not getattr(request, REFUSAL_ATTR, None):
        setattr(request, REFUSAL_ATTR, kind)


def refusal_message(request: HttpRequest | None) -> str | None:
    """The message for the login form, when a backend said why it refused."""
    kind = getattr(request, REFUSAL_ATTR, None)
    return str(MESSAGES[kind]) if kind in MESSAGES else None


def _value(attrs: Any, name: str) -> str:
    """The entry's first value of ``name`` (case-insensitive), NFKC, trimmed; "" if none."""
    if not name or attrs is None:
        return ""
    values = attrs.get(name) or []
    return unicodedata.normalize("NFKC", str(values[0])).strip() if values else ""


def directory_department(attrs: Any) -> str:
    """The entry's department (DIRECTORY_DEPARTMENT_ATTR), "" when not configured or absent."""
    return _value(attrs, settings.DIRECTORY_DEPARTMENT_ATTR)


def match_person(attrs: Any) -> Any | None:
    """The portal person of a directory entry: by 職員番号, else by its one mail address.

    A mail match is refused when both sides have a 職員番号 and they differ (two people).
    """
    people = get_user_model().objects.select_related("profile")
    number = _value(attrs, settings.DIRECTORY_STAFF_NUMBER_ATTR)
    if number:
        person = people.filter(profile__staff_number=number).first()
        if person is not None:
            return person
    email = _value(attrs, settings.DIRECTORY_EMAIL_ATTR)
    if email:
        found = list(people.filter(email__iexact=email)[:2])
        if len(found) == 1:
            person = found[0]
            profile = getattr(person, "profile", None)
            theirs = profile.staff_number if profile is not None else ""
            if not (number and theirs and theirs != number):
                return person
    return None


class LocalPasswordBackend(ModelBackend):
    """Django's passwords, for those who may use one (workgroups.access.may_use_local_password)."""

    def authenticate(
        self, request: HttpRequest | None, username: Any = None, password: Any = None, **kwargs: Any
    ) -> Any:
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None or may_use_local_password(user):
            return user
        # The password was right: saying why tells nothing to someone who did not know it.
        refuse(request, LOCAL_OFF)
        return None


class DirectoryBackend(LDAPBackend):
    """django-auth-ldap, matched to the portal's people and never creating one."""

    @property
    def default_settings(self) -> dict[str, Any]:  # type: ignore[override]
        timeout = settings.DIRECTORY_TIMEOUT_SECONDS
        options: dict[int, Any] = {
            ldap.OPT_NETWORK_TIMEOUT: timeout,  # connecting
            ldap.OPT_TIMEOUT: timeout,  # each synchronous operation (bind, search)
            ldap.OPT_REFERRALS: 0,  # AD's referrals would be followed anonymously
        }
        if settings.DIRECTORY_CA_CERT_FILE:
            options[ldap.OPT_X_TLS_REQUIRE_CERT] = ldap.OPT_X_TLS_DEMAND
            options[ldap.OPT_X_TLS_CACERTFILE] = settings.DIRECTORY_CA_CERT_FILE
            options[ldap.OPT_X_TLS_NEWCTX] = 0  # last: applies the TLS options above
        wanted = [
            settings.DIRECTORY_STAFF_NUMBER_ATTR,
            settings.DIRECTORY_EMAIL_ATTR,
            settings.DIRECTORY_DEPARTMENT_ATTR,
        ]
        return {
            "CONNECTION_OPTIONS": options,
            "USER_SEARCH": LDAPSearch(
                settings.AUTH_LDAP_USER_SEARCH_BASE,
                ldap.SCOPE_SUBTREE,
                settings.AUTH_LDAP_USER_SEARCH_FILTER,
                attrlist=[a for a in wanted if a],
            ),
            # The directory only authenticates: no account made, nothing copied, no groups.
            "NO_NEW_USERS": True,
            "ALWAYS_UPDATE_USER": False,
            "USER_ATTR_MAP": {},
            "MIRROR_GROUPS": False,
            "FIND_GROUP_PERMS": False,
        }

    def authenticate(
        self, request: HttpRequest | None, username: Any = None, password: Any = None, **kwargs: Any
    ) -> Any:
        if not directory_login_on() or not isinstance(username, str) or not password:
            return None
        if len(username) > MAX_USERNAME or not username.strip().isprintable():
            return None
        self._request = request
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_user(self, user_id: Any) -> Any:
        # A directory session ends when the directory login is switched off.
        if not directory_login_on():
            return None
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None

    def get_or_build_user(self, username: str, ldap_user: Any) -> tuple[Any, bool]:
        """The directory accepted the password: find the person, or refuse (never build)."""
        request = getattr(self, "_request", None)
        person = match_person(ldap_user.attrs)
        if person is None or not may_use_screens(person):
            refuse(request, NO_PERSON)
            logger.info("directory login without a portal person: %s", ldap_user.dn)
            raise ldap_user.AuthenticationFailed("no portal person for this directory entry")
        if not person.is_active:
            refuse(request, INACTIVE)
            raise ldap_user.AuthenticationFailed("the portal person is inactive")
        return person, False


def _on_ldap_error(
    sender: Any,
    context: str,
    user: PortalUser | None,
    request: HttpRequest | None = None,
    exception: Any = None,
    **kw: Any,
) -> None:
    kind = UNREACHABLE if isinstance(exception, _UNREACHABLE_ERRORS) else DIRECTORY_ERROR
    refuse(request, kind)
    logger.warning("directory %s (%s): %r", kind, context, exception)


ldap_error.connect(_on_ldap_error, sender=DirectoryBackend, dispatch_uid="portal_directory_error")


# --- re-authentication: the directory password again -----------------------------------------

SESSION_KEY = "portal_directory_login"


def remember_login(request: HttpRequest, user: PortalUser) -> None:
    """Keep, in the session, the directory name a person signed in with (the re-entry of the
    password for a sensitive action asks the directory under that name)."""
    name = getattr(user, "ldap_username", None)
    if name and getattr(user, "backend", "").endswith(".DirectoryBackend"):
        request.session[SESSION_KEY] = {"user": user.pk, "username": name}
    else:
        request.session.pop(SESSION_KEY, None)


def confirm_password(request: HttpRequest, user: PortalUser, password: str) -> bool:
    """Whether ``password`` is the directory password of ``user`` (who signed in with it)."""
    remembered = request.session.get(SESSION_KEY)
    if not isinstance(remembered, dict) or remembered.get("user") != user.pk:
        return False
    again = DirectoryBackend().authenticate(
        request, username=remembered.get("username"), password=password
    )
    return again is not None and again.pk == user.pk
