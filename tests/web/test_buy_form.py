"""The buy form's own checks: what the buyer typed is kept, and each problem names its field."""

from __future__ import annotations

import pytest

from api.cooperatives.addresses import province_options, ward_options
from api.web.buy_form import read_form, refusal_message

pytestmark = pytest.mark.pure

LAI_CHAU, BINH_LU, HA_NOI_BA_DINH = 12, 3390, 4


def _same(text: str) -> str:
    return text


def _filled(**changes: str) -> dict[str, str]:
    data = {
        "name": "Lò Thị Mai", "phone": "0912 345 678", "province": str(LAI_CHAU),
        "ward": str(BINH_LU), "street": "Bản 1", "note": "", "qty-7": "2", "qty-8": "0",
        "action": "pay",
    }  # fmt: skip
    data.update(changes)
    return data


def test_a_good_form_resolves_the_place_and_keeps_the_lines() -> None:
    form = read_form(_filled(), [7, 8], _same)
    assert form.errors == {}
    assert form.lines() == [(7, 2)]
    assert (form.province_name, form.ward_name) == ("Lai Châu", "Xã Bình Lư")


def test_every_problem_is_named_by_its_field_and_input_is_kept() -> None:
    data = _filled(name=" ", phone="12", street="", **{"qty-7": "100", "qty-8": "-1"})
    form = read_form(data, [7, 8], _same)
    assert set(form.errors) == {"name", "phone", "street", "qty-7", "qty-8"}
    assert form.quantity(7) == "100"
    assert form.values["phone"] == "12"


def test_nothing_chosen_is_one_message_for_the_product_list() -> None:
    form = read_form(_filled(**{"qty-7": "0"}), [7, 8], _same)
    assert set(form.errors) == {"lines"}


def test_a_commune_of_another_province_is_refused_and_dropped() -> None:
    form = read_form(_filled(ward=str(HA_NOI_BA_DINH)), [7], _same)
    assert set(form.errors) == {"ward"}
    assert form.province_code == LAI_CHAU
    assert form.ward_code is None


def test_an_unknown_province_is_refused() -> None:
    form = read_form(_filled(province="999", ward=""), [7], _same)
    assert "province" in form.errors
    assert form.province_code is None


def test_choosing_a_province_only_lists_its_communes_without_complaints() -> None:
    form = read_form({"province": str(LAI_CHAU), "action": "places", "qty-7": "1"}, [7], _same)
    assert form.choosing_place
    assert form.errors == {}
    assert form.province_code == LAI_CHAU


def test_the_pickers_hold_the_official_list() -> None:
    assert len(province_options()) == 34
    lai_chau = ward_options(LAI_CHAU)
    assert any(o.name == "Xã Bình Lư" for o in lai_chau)
    assert all(o.code != HA_NOI_BA_DINH for o in lai_chau)
    assert ward_options(999) == ()


class _Refused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def test_checkout_refusals_land_on_the_field_they_name_in_the_buyers_words() -> None:
    form = read_form(_filled(**{"qty-8": "3"}), [7, 8], _same)
    assert form.field_of("lines.1.quantity") == "qty-8"
    assert form.field_of("buyer.phone") == "phone"
    assert form.field_of("buyer.ward") == "ward"
    assert form.field_of("live_session_id") == "lines"
    assert form.field_of(None) == "lines"
    assert refusal_message(_Refused("over_buyer_limit"), _same, "qty-8") == (
        "That is more than one buyer may take in this live session."
    )
    assert refusal_message(_Refused("bad_phone"), _same, "phone").startswith("Please enter a phone")
    assert refusal_message(_Refused("too_many_units"), _same, "qty-8") == (
        "Choose a number from 0 to 99."
    )
    assert refusal_message(RuntimeError("stripe down"), _same).startswith("Card payment")
