"""Password reset in the portal's own pages (base.html), from the form to the new password."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from tests.factory import make_user

pytestmark = pytest.mark.django_db


def test_password_reset_goes_through_the_portal_pages(client):
    user = make_user("tanaka")
    page = client.get(reverse("password_reset")).content.decode()
    assert 'class="site-header"' in page and "breadcrumbs" not in page  # not the admin's
    assert "<h1>パスワードの再設定</h1>" in page

    response = client.post(reverse("password_reset"), {"email": user.email})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert (
        "<h1>再設定用のメールを送りました</h1>" in client.get(response["Location"]).content.decode()
    )
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [user.email]

    link = re.search(r"/accounts/reset/[^/\s]+/[^/\s]+/", mail.outbox[0].body).group(0)
    form_url = client.get(link)["Location"]  # Django swaps the token for a session marker
    page = client.get(form_url).content.decode()
    assert "<h1>新しいパスワードの設定</h1>" in page and 'name="new_password1"' in page
    new = "Kahoku-new-passw0rd!"
    response = client.post(form_url, {"new_password1": new, "new_password2": new})
    assert response["Location"] == reverse("password_reset_complete")
    assert "<h1>パスワードを設定しました</h1>" in client.get(response["Location"]).content.decode()
    user.refresh_from_db()
    assert user.check_password(new)

    # The link is used up: the page says so in the portal's words and offers a new one.
    page = client.get(link, follow=True).content.decode()
    assert "このリンクは使えません" in page and reverse("password_reset") in page
