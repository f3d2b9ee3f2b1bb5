"""What the desk says: status codes per scan outcome, refusals in Vietnamese, a forged flash."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from api.batches.schemas import BatchSummary
from api.web.desk_words import ScanAnswer, refusal, scan_from_flash, scan_json
from api.web.i18n import translations

pytestmark = pytest.mark.pure
VI = translations("vi").gettext


def _batch(status: str, parcels: int, packed: int) -> BatchSummary:
    return BatchSummary(
        id=7, cooperative_id=1, cooperative_name="HTX Bình Lư", province_code=12,
        carrier="viettel_post", pickup_date=date(2026, 11, 30), window_start=time(8),
        window_end=time(11), status=status, parcels=parcels, packed=packed,
        left=parcels - packed, weight_g=0, cod_vnd=0, created_by=None,
        created_at=datetime(2026, 11, 29, tzinfo=UTC), status_at=None, handed_over_at=None,
    )  # fmt: skip


def test_each_outcome_has_its_status_code_and_words() -> None:
    cases = {
        ScanAnswer("packed", "WB1", 1, "WB1", "PHN-1", 1, 2): (200, "Đã đóng gói"),
        ScanAnswer("already_packed", "WB1", 1, "WB1", "PHN-1", 1, 2): (200, "Đã đóng gói trước"),
        ScanAnswer("other_batch", "WB9", 9, "WB9", other_batch_id=12): (409, "thuộc lô #12"),
        ScanAnswer("refused", "WB3"): (409, "Chưa đóng gói"),
        ScanAnswer("unknown", "XYZ"): (404, "Mã không xác định"),
    }
    for answer, (code, words) in cases.items():
        assert answer.status_code == code
        assert words in scan_json(answer, VI)["title"]
    last = scan_json(ScanAnswer("packed", "WB1", 1, "WB1", "PHN-1", 3, 0), VI)
    assert "Đã đóng gói đủ mọi kiện" in last["detail"]


def test_refusals_are_told_in_the_packers_language() -> None:
    assert "2 kiện chưa đóng gói" in refusal(_batch("packing", 3, 1), "ready", "x", VI)
    assert "lô chưa có kiện nào" in refusal(_batch("open", 0, 0), "ready", "x", VI)
    assert "Sẵn sàng lấy hàng" in refusal(_batch("ready", 3, 3), "ready", "x", VI)
    assert refusal(_batch("closed", 3, 3), "packing", "no way", VI).endswith("no way")


@pytest.mark.parametrize(
    "flash",
    [
        {"kind": "scan", "outcome": "<script>", "code": "x"},
        {"kind": "scan", "outcome": "packed"},
        {"kind": "move", "outcome": "packed", "code": "x"},
    ],
)
def test_a_flash_that_is_not_ours_shows_nothing(flash: dict[str, object]) -> None:
    assert scan_from_flash(flash) is None


def test_a_flash_keeps_only_well_typed_fields() -> None:
    flash = {"kind": "scan", "outcome": "packed", "code": "WB1", "packed": "3", "left": 0}
    answer = scan_from_flash(flash)
    assert answer is not None
    assert (answer.packed, answer.left) == (None, 0)
