"""A made-up batch sheet with Vietnamese names: for tests, the bench and previewing layouts."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime

from api.documents.sheets import BatchSheet, BatchTotals, Parcel, ParcelLine, Party, PickLine

PRODUCTS = (
    ("CF-RB-500", "Cà phê rang xay Robusta Buôn Ma Thuột 500g", 520, "Kệ A1"),
    ("GAO-ST25-5", "Gạo ST25 Sóc Trăng túi 5kg", 5050, "Kệ A2"),
    ("MAT-ONG-1L", "Mật ong hoa cà phê nguyên chất 1 lít", 1450, "Kệ B1"),
    ("TIEU-DEN-250", "Tiêu đen Chư Sê hũ 250g", 300, "Kệ B3"),
    ("BO-034-3", "Bơ sáp Đắk Lắk thùng 3kg", 3100, "Kho lạnh 1"),
    ("SAU-RIENG-RI6", "Sầu riêng Ri6 nguyên trái (ước 2,5kg)", 2600, "Kho lạnh 2"),
)
NAMES = (
    "Nguyễn Thị Hương", "Trần Văn Đức", "Lê Hoàng Yến", "Phạm Quốc Bảo", "Hoàng Thị Ánh Tuyết",
    "Vũ Đình Trọng", "Đặng Thùy Dương", "Bùi Ngọc Ẩn", "Đỗ Mỹ Lệ", "Ngô Thị Ỷ Lan",
)  # fmt: skip
PLACES = (
    ("Số 12 ngõ 34 phố Hàng Bạc", "Phường Hoàn Kiếm", "Thành phố Hà Nội"),
    ("45/7 đường Nguyễn Thị Minh Khai", "Phường Bến Thành", "Thành phố Hồ Chí Minh"),
    ("Thôn Phú Lộc", "Xã Quảng Điền", "Thành phố Huế"),
    ("Tổ 5, khu phố Mỹ Hòa", "Phường Ninh Kiều", "Thành phố Cần Thơ"),
    ("Ấp Tân Thuận", "Xã Ea Kar", "Tỉnh Đắk Lắk"),
)
CO_OP = Party("HTX Nông sản Ea Tu", "0262 3812 345", ("Thôn 3, điểm tập kết Ea Tu", "Xã Ea Tu",
              "Tỉnh Đắk Lắk"))  # fmt: skip


def parcels(count: int, seed: int = 12) -> Iterator[Parcel]:
    """`count` parcels, the same for the same seed (generated lazily, one at a time)."""
    rng = random.Random(seed)
    for n in range(1, count + 1):
        picks = rng.sample(PRODUCTS, rng.randint(1, 3))
        lines = tuple(ParcelLine(sku, name, q, q * grams) for sku, name, grams, _ in picks
                      for q in [rng.randint(1, 3)])  # fmt: skip
        yield Parcel(
            shipment_id=1000 + n, order_reference=f"PH-{260000 + n}",
            platform_order_id=f"57{rng.randrange(10**15):015d}",
            waybill=f"VTP{8000000000 + n * 7919}",
            sort_code=f"{rng.choice('HSCDN')}{n % 40:02d}-B{n % 9}",
            carrier="viettel_post", service_code="VCN", sender=CO_OP,
            receiver=Party(NAMES[n % len(NAMES)], f"09{rng.randrange(10**8):08d}",
                           PLACES[n % len(PLACES)]),
            weight_g=sum(line.weight_g for line in lines) + 150,
            cod_vnd=rng.choice((0, 185_000, 349_000, 1_234_000)),
            lines=lines, note="Hàng dễ vỡ, xin nhẹ tay" if n % 4 == 0 else "", packed_at=None,
        )  # fmt: skip


def sheet(count: int, seed: int = 12) -> BatchSheet:
    """A batch of `count` parcels whose pick lines and totals agree with its parcels."""
    quantities: dict[str, int] = {}
    weight = cod = 0
    for parcel in parcels(count, seed):
        weight += parcel.weight_g
        cod += parcel.cod_vnd
        for line in parcel.lines:
            quantities[line.sku] = quantities.get(line.sku, 0) + line.quantity
    pick = tuple(PickLine(sku, name, quantities[sku], quantities[sku] * grams, where)
                 for sku, name, grams, where in PRODUCTS if sku in quantities)  # fmt: skip
    return BatchSheet(
        batch_id=42, cooperative_name="HTX Nông sản Ea Tu", collection_point=CO_OP,
        carrier="viettel_post", carrier_name="Viettel Post", pickup_date=date(2026, 11, 30),
        window="08:00–11:00", status="packing", pick_lines=pick,
        totals=BatchTotals(parcels=count, packed=0, weight_g=weight, cod_vnd=cod),
        parcels=parcels(count, seed), printed_at=datetime(2026, 11, 29, 7, 30, tzinfo=UTC),
    )  # fmt: skip
