"""How money, weights and long names look on the documents."""

from __future__ import annotations

import pytest

from api.documents import fonts
from api.documents.text import fit, kg, money, nfc, wrap

pytestmark = pytest.mark.pure


@pytest.mark.parametrize(
    ("vnd", "shown"),
    [(0, "0 ₫"), (999, "999 ₫"), (1_234_000, "1.234.000 ₫"), (-50_000, "-50.000 ₫")],
)
def test_money_uses_thousands_dots_and_the_dong_sign(vnd: int, shown: str) -> None:
    assert money(vnd) == shown


@pytest.mark.parametrize(
    ("grams", "shown"), [(0, "0 kg"), (250, "0,25 kg"), (1250, "1,25 kg"), (12_000, "12 kg"),
                         (1_234_567, "1.234,567 kg")],
)  # fmt: skip
def test_weights_are_kilograms_with_a_decimal_comma(grams: int, shown: str) -> None:
    assert kg(grams) == shown


def test_long_text_is_cut_with_an_ellipsis_and_composed() -> None:
    fonts.register()
    decomposed = "Nguye\u0302\u0303n Thi\u0323 Hu\u031bo\u031bng " * 5
    cut = fit(decomposed, fonts.REGULAR, 10, 100)
    assert cut.endswith("…")
    assert cut.startswith("Nguyễn Thị Hương")
    assert cut == nfc(cut)


def test_wrap_keeps_to_the_line_budget() -> None:
    fonts.register()
    lines = wrap("Số 12 ngõ 34 phố Hàng Bạc, Phường Hoàn Kiếm, Thành phố Hà Nội " * 3,
                 fonts.REGULAR, 9, 120, 2)  # fmt: skip
    assert len(lines) == 2
    assert lines[-1].endswith("…")
