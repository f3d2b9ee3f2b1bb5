"""The 2025 two-tier address (province -> commune/ward), checked against the official list.

The list comes from the `vietnam-provinces` package: 34 provinces and 3,321 communes and wards
after the July 2025 reform. Names are matched ignoring case, diacritics, extra spaces and the
administrative prefix ("Tỉnh", "Thành phố", "Xã", "Phường", "Đặc khu"), so people can type
"lai chau" or "Xã Bình Lư" and get the same canonical place.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from vietnam_provinces import Province, Ward

from api.core.text import fold

_PROVINCE_PREFIXES = ("tinh ", "thanh pho ")
_WARD_PREFIXES = ("xa ", "phuong ", "dac khu ", "thi tran ")


@dataclass(frozen=True)
class Place:
    """A validated province and commune/ward, with official codes and names."""

    province_code: int
    province_name: str
    ward_code: int
    ward_name: str


class UnknownPlace(ValueError):
    """The province or ward is not on the official list (or not inside that province)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _strip(key: str, prefixes: tuple[str, ...]) -> str:
    for prefix in prefixes:
        if key.startswith(prefix):
            return key[len(prefix) :]
    return key


def _clean_name(name: str) -> str:
    # The package carries a few names with doubled spaces ("Phường  Tân Lập").
    return " ".join(name.split())


@lru_cache(maxsize=1)
def _provinces() -> dict[str, Province]:
    table: dict[str, Province] = {}
    for province in Province.iter_all():
        table[fold(_clean_name(province.name))] = province
        table[_strip(fold(province.name), _PROVINCE_PREFIXES)] = province
    return table


@lru_cache(maxsize=1)
def _wards() -> dict[tuple[int, str], list[Ward]]:
    table: dict[tuple[int, str], list[Ward]] = {}
    for ward in Ward.iter_all():
        pcode = int(ward.province_code)
        full = fold(_clean_name(ward.name))
        for key in {full, _strip(full, _WARD_PREFIXES)}:
            table.setdefault((pcode, key), []).append(ward)
    return table


def province_count() -> int:
    """How many provinces the official list has (34 after the reform)."""
    return len({int(p.code) for p in Province.iter_all()})


def resolve_place(province: str | int, ward: str | int) -> Place:
    """Resolve names or official codes to a Place, or raise UnknownPlace naming the field."""
    prov = _find_province(province)
    pcode = int(prov.code)
    if isinstance(ward, int):
        try:
            found = Ward.from_code(ward)  # type: ignore[arg-type]
        except ValueError:
            raise UnknownPlace("ward", f"no commune/ward with code {ward}") from None
        if int(found.province_code) != pcode:
            raise UnknownPlace("ward", f"ward {ward} is not in {prov.name}")
        return Place(pcode, _clean_name(prov.name), int(found.code), _clean_name(found.name))
    key = fold(ward)
    matches = _wards().get((pcode, key)) or _wards().get((pcode, _strip(key, _WARD_PREFIXES)))
    if not matches:
        raise UnknownPlace("ward", f"no commune/ward named {ward!r} in {prov.name}")
    if len(matches) > 1:
        kinds = ", ".join(sorted(_clean_name(w.name) for w in matches))
        raise UnknownPlace("ward", f"{ward!r} is ambiguous in {prov.name}: say which ({kinds})")
    found = matches[0]
    return Place(pcode, _clean_name(prov.name), int(found.code), _clean_name(found.name))


def _find_province(province: str | int) -> Province:
    if isinstance(province, int):
        try:
            return Province.from_code(province)  # type: ignore[arg-type]
        except ValueError:
            raise UnknownPlace("province", f"no province with code {province}") from None
    key = fold(province)
    found = _provinces().get(key) or _provinces().get(_strip(key, _PROVINCE_PREFIXES))
    if found is None:
        raise UnknownPlace("province", f"no province named {province!r} after the 2025 reform")
    return found


@dataclass(frozen=True)
class PlaceOption:
    """One entry of a province or commune/ward picker: official code and name."""

    code: int
    name: str


def _picker_order(name: str) -> str:
    # Alphabetical by the name people say ("Lai Châu", not "Tỉnh Lai Châu").
    return _strip(_strip(fold(name), _PROVINCE_PREFIXES), _WARD_PREFIXES)


@lru_cache(maxsize=1)
def province_options() -> tuple[PlaceOption, ...]:
    """The 34 provinces for a picker, in alphabetical order."""
    options = {PlaceOption(int(p.code), _clean_name(p.name)) for p in Province.iter_all()}
    return tuple(sorted(options, key=lambda o: _picker_order(o.name)))


@lru_cache(maxsize=1)
def _ward_options() -> dict[int, tuple[PlaceOption, ...]]:
    table: dict[int, list[PlaceOption]] = {}
    for ward in Ward.iter_all():
        option = PlaceOption(int(ward.code), _clean_name(ward.name))
        table.setdefault(int(ward.province_code), []).append(option)
    return {
        code: tuple(sorted(options, key=lambda o: _picker_order(o.name)))
        for code, options in table.items()
    }


def ward_options(province_code: int) -> tuple[PlaceOption, ...]:
    """The communes and wards of one province for a picker (empty for an unknown province)."""
    return _ward_options().get(province_code, ())
