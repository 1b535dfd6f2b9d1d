"""Issue 19 item 11: the city cannot lock itself out of its own portal.

Before, `import_staff` without `--user` deactivated every secretariat member missing from
the roster, and two secretariat members deactivating each other at the same moment both
succeeded, leaving no active secretariat. Now one predicate (workgroups.access.
lockout_problems), asked under a row lock by the service that deactivates or demotes
(workgroups.services.lockout_check), refuses the change that would take the last active
secretariat member or the last active superuser, with the reason, on every path.
"""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse

from tests.factory import login_verified, make_user, upload
from tests.security import admin_form_data
from tests.workgroups.test_roster import person, roster_xlsx
from workgroups import services
from workgroups.models import StaffProfile

User = get_user_model()
LAST = "有効な事務局職員がいなくなるため、{}を無効にできません。"
LAST_ROLE = "有効な事務局職員がいなくなるため、{}の役割を事務局から変更できません。"
LAST_SUPERUSER = "有効なシステム管理者(スーパーユーザー)がいなくなるため、{}を無効にできません。"

# A roster of the city's other staff only: the secretariat's rows are missing.
OTHERS_ONLY = [person("1001", "総務課", "新任 一郎"), person("1002", "総務課", "新任 二郎")]


def secretary(username: str, display_name: str, staff_number: str = "") -> object:
    user = make_user(
        username,
        role=StaffProfile.Role.SECRETARIAT,
        section="情報推進課",
        display_name=display_name,
    )
    if staff_number:
        StaffProfile.objects.filter(user=user).update(staff_number=staff_number)
    return user


def root(username: str = "root") -> object:
    return User.objects.create_superuser(username, f"{username}@city.kahoku.example", "x")


def active(*users) -> list[bool]:
    return [User.objects.get(pk=u.pk).is_active for u in users]


# --- the roster: screen, service, command -----------------------------------------------------


@pytest.mark.django_db
def test_roster_without_the_secretariat_rows_is_refused_on_the_screen(client, plan):
    a = secretary("jimu-a", "事務局 A", "9001")
    b = secretary("jimu-b", "事務局 B", "9002")
    login_verified(client, root())
    response = client.post(
        reverse("workgroups:staff_roster"),
        {"file": upload(roster_xlsx(OTHERS_ONLY), "meibo.xlsx"), "effective": date.today()},
    )
    assert response.status_code == 200  # the preview, listing the problems
    page = response.content.decode()
    assert LAST.format("事務局 A") in page and LAST.format("事務局 B") in page
    assert response.context.get("token", "") == ""  # nothing to confirm
    assert active(a, b) == [True, True]
    assert not StaffProfile.objects.filter(staff_number="1001").exists()


@pytest.mark.django_db
def test_roster_keeps_one_secretary_then_goes_through(plan):
    a = secretary("jimu-a", "事務局 A", "9001")
    b = secretary("jimu-b", "事務局 B", "9002")
    rows = [*OTHERS_ONLY, person("9001", "情報推進課", "事務局 A")]
    services.staff_roster_apply(
        actor=root(),
        plan=plan,
        data=roster_xlsx(rows),
        filename="meibo.xlsx",
        effective=date.today(),
        today=date.today(),
    )
    assert active(a, b) == [True, False]  # B left the roster; A is still there


@pytest.mark.django_db
def test_import_staff_without_user_does_not_deactivate_the_secretariat(plan, tmp_path, capsys):
    a = secretary("jimu-a", "事務局 A", "9001")
    b = secretary("jimu-b", "事務局 B", "9002")
    file = tmp_path / "meibo.xlsx"
    file.write_bytes(roster_xlsx(OTHERS_ONLY))

    with pytest.raises(CommandError, match="何も書き込まれていません") as exc:
        call_command("import_staff", str(file))

    assert exc.value.returncode == 1
    err = capsys.readouterr().err
    assert LAST.format("事務局 A") in err and LAST.format("事務局 B") in err
    assert active(a, b) == [True, True]
    assert not StaffProfile.objects.filter(staff_number="1001").exists()


@pytest.mark.django_db
def test_import_staff_by_someone_else_does_not_deactivate_the_secretariat(plan, tmp_path):
    """Whatever --user is: here a clerk who is in the roster and not in the secretariat."""
    a = secretary("jimu-a", "事務局 A", "9001")
    clerk = make_user("clerk", section="総務課")
    StaffProfile.objects.filter(user=clerk).update(staff_number="1001")
    file = tmp_path / "meibo.xlsx"
    file.write_bytes(roster_xlsx(OTHERS_ONLY))

    with pytest.raises(CommandError):
        call_command("import_staff", str(file), "--user", "clerk")

    assert active(a) == [True]


# --- the staff screen and its services --------------------------------------------------------


@pytest.mark.django_db
def test_the_last_secretary_cannot_be_deactivated_or_demoted_on_the_staff_screen(client, plan):
    only = secretary("jimu-a", "事務局 A")
    login_verified(client, root())

    response = client.post(
        reverse("workgroups:staff_set_active", args=[only.pk]), {"active": "0"}, follow=True
    )
    assert LAST.format("事務局 A") in response.content.decode()
    assert active(only) == [True]

    url = reverse("workgroups:staff_edit", args=[only.pk])
    data = {
        "display_name": "事務局 A",
        "email": only.email,
        "role": "staff",
        "version": str(services.staff_version_of(only)),
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert LAST_ROLE.format("事務局 A") in response.content.decode()
    assert StaffProfile.objects.get(user=only).role == StaffProfile.Role.SECRETARIAT


@pytest.mark.django_db
def test_with_a_second_secretary_the_first_can_go(plan):
    a = secretary("jimu-a", "事務局 A")
    b = secretary("jimu-b", "事務局 B")
    services.staff_set_active(actor=a, user=b, active=False)
    with pytest.raises(ValidationError, match=LAST.format("事務局 A")):
        services.staff_set_active(actor=root(), user=a, active=False)
    assert active(a, b) == [True, False]


# --- the admin --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_user_form_cannot_deactivate_the_last_secretary_or_superuser(client, plan):
    only = secretary("jimu-a", "事務局 A")
    admin = root()
    login_verified(client, admin)

    url = reverse("admin:auth_user_change", args=[only.pk])
    data = admin_form_data(client.get(url))
    data.pop("is_active", None)
    response = client.post(url, data)
    assert response.status_code == 200
    assert LAST.format("事務局 A") in response.content.decode()
    assert active(only) == [True]

    data = admin_form_data(client.get(url))
    data["profile-0-role"] = "staff"
    response = client.post(url, data)
    assert response.status_code == 200
    assert LAST_ROLE.format("事務局 A") in response.content.decode()
    assert StaffProfile.objects.get(user=only).role == StaffProfile.Role.SECRETARIAT

    url = reverse("admin:auth_user_change", args=[admin.pk])
    data = admin_form_data(client.get(url))
    data.pop("is_active", None)
    response = client.post(url, data)
    assert response.status_code == 200
    assert LAST_SUPERUSER.format("root") in response.content.decode()
    assert active(admin) == [True]


@pytest.mark.django_db
def test_the_admin_cannot_delete_the_last_secretary(client, plan):
    only = secretary("jimu-a", "事務局 A")
    login_verified(client, root())
    response = client.post(reverse("admin:auth_user_delete", args=[only.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert User.objects.filter(pk=only.pk).exists()
    profile = StaffProfile.objects.get(user=only)
    response = client.post(
        reverse("admin:workgroups_staffprofile_delete", args=[profile.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert StaffProfile.objects.filter(pk=profile.pk).exists()


# --- concurrent deactivations, each on its own connection ---------------------------------------

RACERS = 10


def sqlite_test_db_locked(exc: BaseException) -> bool:
    """SQLite's test database is in memory with a shared cache, which refuses a second writer
    at once ("database table is locked") where the real database file waits for it (the
    busy timeout, settings.py). Only there, the thread tries again: on PostgreSQL every
    thread runs exactly once."""
    return connection.vendor == "sqlite" and "table is locked" in str(exc)


def race(work) -> tuple[list[str], list[BaseException]]:
    """Run ``work(i)`` in RACERS threads released at once; each thread has its own database
    connection. Returns the refusal messages and any other failure."""
    barrier = threading.Barrier(RACERS)
    refused: list[str] = []
    failures: list[BaseException] = []

    def attempt(i: int) -> None:
        while True:
            try:
                return work(i)
            except OperationalError as exc:
                if not sqlite_test_db_locked(exc):
                    raise
            time.sleep(0.01)

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            attempt(i)
        except ValidationError as exc:
            refused.append(" ".join(exc.messages))
        except BaseException as exc:  # reported by the test, not lost in the thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return refused, failures


@pytest.mark.django_db(transaction=True)
def test_ten_secretaries_deactivating_each_other_at_once_leave_one(plan):
    """Each deactivates the next (a ring): without the lock all ten succeed."""
    team = [secretary(f"jimu-{i}", f"事務局 {i}") for i in range(RACERS)]

    refused, failures = race(
        lambda i: services.staff_set_active(
            actor=team[i], user=team[(i + 1) % RACERS], active=False
        )
    )

    assert failures == []
    still = [u for u in team if User.objects.get(pk=u.pk).is_active]
    assert len(still) == 1 == len(refused)
    assert refused[0].startswith(LAST.format(still[0].profile.display_name))


@pytest.mark.django_db(transaction=True)
def test_ten_deactivations_on_the_staff_screen_at_once_leave_one_and_no_500(plan):
    """Ten administrators each deactivate another secretariat member through the screen."""
    team = [secretary(f"jimu-{i}", f"事務局 {i}") for i in range(RACERS)]
    clients = [Client() for _ in range(RACERS)]
    for i, c in enumerate(clients):
        login_verified(c, root(f"root-{i}"))
    pages: list[tuple[int, str]] = []

    def deactivate(i: int) -> None:
        c = clients[i]
        response = c.post(
            reverse("workgroups:staff_set_active", args=[team[i].pk]), {"active": "0"}
        )
        if response.status_code == 503 and connection.vendor == "sqlite":
            raise OperationalError("database table is locked")  # see sqlite_test_db_locked
        page = c.get(response["Location"])
        pages.append((response.status_code, page.content.decode()))

    refused, failures = race(deactivate)

    assert failures == [] and refused == []
    assert [status for status, _ in pages] == [302] * RACERS  # no 500
    still = [u for u in team if User.objects.get(pk=u.pk).is_active]
    assert len(still) == 1
    losers = [page for _, page in pages if "有効な事務局職員がいなくなるため" in page]
    assert len(losers) == 1
    assert LAST.format(still[0].profile.display_name) in losers[0]
