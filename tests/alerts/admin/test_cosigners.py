import datetime as dt

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from django.utils.html import escape

from alerts.models import Cosignature
from legislators.models import Chamber
from tests.factories import CosignatureFactory, LetterFactory, seated_legislator
from tests.support.staff import staff_login

pytestmark = pytest.mark.django_db

# Far from the real data (1975 onwards) other tests may have imported for the session, so only
# the legislators made here serve on the letter's date.
DAY = dt.date(1959, 9, 20)

PASTED = (
    "Judy Chu (D-CA), Grace Meng (D-NY); Robert Menendez (D-NJ)\n"
    "Tony Cardenas (R-CA), and Nobody <script>alert(1)</script> Here."
)


def seat(first, last, **kwargs):
    return seated_legislator(first, last, on=DAY, **kwargs)


@pytest.fixture
def people():
    return {
        "chu": seat("Judy", "Chu", district=28),
        "meng": seat("Grace", "Meng", state="NY", district=6),
        "rep": seat("Robert", "Menendez", state="NJ", district=8, bioguide_id="M001226"),
        "sen": seat("Robert", "Menendez", nickname="Bob", state="NJ", chamber=Chamber.SENATE),
        "cardenas": seat("Tony", "Cárdenas", district=29),
    }


@pytest.fixture
def letter():
    return LetterFactory(sent_on=DAY, title="Letter <i>one</i>")


def match_url(letter):
    return reverse("admin:alerts_letter_match_cosigners", args=[letter.pk])


def preview(client, letter, text=PASTED, chamber="", role="cosigner"):
    response = client.post(
        match_url(letter), {"text": text, "chamber": chamber, "role": role, "_preview": "Preview"}
    )
    assert response.status_code == 200
    return response


def save_data(preview_response, rows, **overrides):
    form = preview_response.context["form"]
    data = {
        "text": form["text"].value(),
        "chamber": form["chamber"].value(),
        "role": form["role"].value(),
        "previewed": form["previewed"].value(),
        "_save": "Save cosignatures",
    }
    data.update({f"row_{i}": str(value) for i, value in enumerate(rows)})
    data.update(overrides)
    return data


def choice_values(response, row):
    return [value for value, _ in response.context["form"].fields[f"row_{row}"].choices]


def test_the_letter_change_page_links_to_the_match_page(admin_client, letter):
    response = admin_client.get(reverse("admin:alerts_letter_change", args=[letter.pk]))
    assert response.status_code == 200
    assert f'href="{match_url(letter)}"' in response.content.decode()


def test_the_match_page_shows_the_form(admin_client, letter):
    response = admin_client.get(match_url(letter))
    body = response.content.decode()
    assert response.status_code == 200
    assert '<textarea name="text"' in body
    assert '<option value="house" selected>House</option>' in body
    assert escape(letter.title) in body
    assert "<i>one</i>" not in body
    assert 'id="cosigner-matches"' not in body  # no table before a preview


def test_preview_shows_each_entry_with_its_status_and_choices(admin_client, letter, people):
    response = preview(admin_client, letter)
    body = response.content.decode()
    matches = response.context["form"].matches
    assert [m.status for m in matches] == [
        "matched",
        "matched",
        "ambiguous",
        "unmatched",
        "unmatched",
    ]
    assert "2 matched, 1 ambiguous, 2 unmatched" in body
    assert body.count('<tr class="row-') == 5

    chu, rep, sen, cardenas = people["chu"], people["rep"], people["sen"], people["cardenas"]
    # Matched: preselected, or skipped.
    assert choice_values(response, 0) == [str(chu.pk), "skip"]
    assert f'<option value="{chu.pk}" selected>' in body
    assert "Judy Chu (D-CA-28)" in body
    # Ambiguous: both Menendezes, nobody preselected.
    assert choice_values(response, 2) == ["", str(rep.pk), str(sen.pk), "skip"]
    assert "2 legislators match" in body
    assert "Robert Menendez (D-NJ-08, M001226)" in body
    assert "D-NJ, Senate" in body
    # Unmatched: the near miss, "skip" preselected, and the reason.
    assert choice_values(response, 3) == [str(cardenas.pk), "skip"]
    assert f"party R in the text but D on {DAY}" in body
    assert choice_values(response, 4) == ["skip"]
    # Pasted text is escaped wherever it appears.
    assert "<script>alert(1)</script>" not in body
    assert escape("Nobody <script>alert(1)</script> Here") in body

    assert not Cosignature.objects.exists()


def test_the_chamber_choice_decides_between_same_named_members(admin_client, letter, people):
    response = preview(admin_client, letter, text="Robert Menendez (D-NJ)", chamber="house")
    [match] = response.context["form"].matches
    assert (match.status, match.legislator) == ("matched", people["rep"])


def test_save_creates_the_chosen_cosignatures_only(admin_client, letter, people):
    # An existing cosignature keeps its row and takes the new role.
    existing = CosignatureFactory(letter=letter, legislator=people["chu"], role="cosigner")
    response = preview(admin_client, letter, role="lead")
    rows = [people["chu"].pk, "skip", people["sen"].pk, people["cardenas"].pk, "skip"]
    response = admin_client.post(match_url(letter), save_data(response, rows))

    change_url = reverse("admin:alerts_letter_change", args=[letter.pk])
    assert response.status_code == 302
    assert response["Location"] == change_url
    saved = set(Cosignature.objects.values_list("letter_id", "legislator_id", "role"))
    assert saved == {
        (letter.pk, people["chu"].pk, "lead"),
        (letter.pk, people["sen"].pk, "lead"),
        (letter.pk, people["cardenas"].pk, "lead"),
    }
    assert Cosignature.objects.get(legislator=people["chu"]).pk == existing.pk

    page = admin_client.get(change_url).content.decode()
    assert "3 cosignatures saved; 2 skipped" in page


def test_save_rejects_a_legislator_who_was_not_offered_for_that_entry(admin_client, letter, people):
    response = preview(admin_client, letter)
    outsider = seat("Zoe", "Lofgren", district=18)
    for forged in (people["meng"].pk, outsider.pk, 999999):
        rows = [forged, people["meng"].pk, people["rep"].pk, "skip", "skip"]
        response = admin_client.post(match_url(letter), save_data(response, rows))
        body = response.content.decode()
        assert response.status_code == 200
        assert "Please correct the errors below." in body
        assert "Select a valid choice" in body
        assert not Cosignature.objects.exists()


def test_save_requires_a_decision_on_ambiguous_entries(admin_client, letter, people):
    response = preview(admin_client, letter)
    rows = [people["chu"].pk, people["meng"].pk, "", "skip", "skip"]
    response = admin_client.post(match_url(letter), save_data(response, rows))
    assert response.status_code == 200
    assert "Choose a legislator or skip this entry." in response.content.decode()
    assert not Cosignature.objects.exists()


def test_save_after_the_list_changed_shows_the_new_preview_instead(admin_client, letter, people):
    response = preview(admin_client, letter)
    rows = [people["chu"].pk, people["meng"].pk, people["rep"].pk, "skip", "skip"]
    data = save_data(response, rows, text="Grace Meng (D-NY), Judy Chu (D-CA)")
    response = admin_client.post(match_url(letter), data)
    assert response.status_code == 200
    assert "changed after the preview" in response.content.decode()
    assert [m.raw for m in response.context["form"].matches] == [
        "Grace Meng (D-NY)",
        "Judy Chu (D-CA)",
    ]
    assert not Cosignature.objects.exists()


def test_a_paste_without_names_is_an_error(admin_client, letter):
    response = preview(admin_client, letter, text="and, ; Representatives:")
    assert "No names were found" in response.content.decode()


def test_the_page_needs_the_change_permission(client, letter):
    user = User.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_letter"))
    staff_login(client, user)
    assert client.get(match_url(letter)).status_code == 403
    assert client.post(match_url(letter), {"text": "Judy Chu"}).status_code == 403


def test_an_unknown_letter_is_not_found(admin_client):
    response = admin_client.get(reverse("admin:alerts_letter_match_cosigners", args=[999999]))
    assert response.status_code == 404
