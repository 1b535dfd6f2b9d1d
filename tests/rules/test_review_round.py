"""Who runs the yearly PDCA round (access.can_run_review_round): the list page's "open the
year" form, its view, the reviews_open service, the review form's due-date field and
review_save all ask the same predicate."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from initiatives import services
from initiatives.models import Review
from tests.factory import initiative

pytestmark = pytest.mark.django_db

PERSONAS = ["viewer", "member", "other_member", "leader", "secretariat", "hq"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_open_form_view_and_service_agree(client, personas, persona):
    user = getattr(personas, persona)
    client.force_login(user)
    url = reverse("initiatives:reviews_open")
    html = client.get(reverse("initiatives:list")).content.decode()
    offered = f'action="{url}"' in html
    status = client.post(url, {"fiscal_year": "R8", "due_date": "2027-01-31"}).status_code
    assert status == (302 if persona == "secretariat" else 403)
    try:
        services.reviews_open(actor=user, fiscal_year=2025, due_date=date(2026, 1, 31))
    except PermissionDenied as exc:
        assert str(exc) == services.MSG_REVIEWS_OPEN_DENIED
        accepted = False
    else:
        accepted = True
    assert offered == (status == 302) == accepted == (persona == "secretariat")
    assert Review.objects.exists() == accepted


@pytest.mark.parametrize("persona", ["leader", "secretariat"])
def test_due_date_field_and_review_save_agree(client, personas, persona):
    user = getattr(personas, persona)
    ini = initiative("2.1")
    client.force_login(user)
    form = client.get(reverse("initiatives:review_edit", args=[ini.pk, 2026])).context["form"]
    field_open = not form.fields["due_date"].disabled
    try:
        services.review_save(
            actor=user, initiative=ini, fiscal_year=2026, version=None, due_date=date(2027, 1, 31)
        )
    except PermissionDenied as exc:
        assert str(exc) == services.MSG_DUE_DATE_DENIED
        saved = False
    else:
        saved = True
    assert field_open == saved == (persona == "secretariat")
