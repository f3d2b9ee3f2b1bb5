"""SQL for a tonnage report: facts plus pending deltas, at the coarsest grain that will do.

One statement reads `tonnage_facts` and `tonnage_deltas` together, so it sees one snapshot:
either before a compaction committed (the deltas still there) or after (folded into the facts),
never both or neither. Every value travels as a bound parameter; only the fixed expressions
below are spliced into the text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import TextClause, text

from api.accounts.scope import Actor
from api.reports.models import MEASURE_COLUMNS, Grain
from api.reports.schemas import TIME_DIMENSIONS, Dimension, ReportSpec, Sort

# Key expression, and where its label comes from: joined to the page's groups only, after
# grouping by the keys (grouping or sorting by names would compare Vietnamese text per row).
_DIMENSIONS: dict[Dimension, tuple[str, str | None]] = {
    Dimension.DAY: ("f.day", None),
    Dimension.WEEK: ("date_trunc('week', f.day)::date", None),
    Dimension.MONTH: ("date_trunc('month', f.day)::date", None),
    Dimension.PROVINCE: (
        "c.province_code",
        "SELECT DISTINCT ON (province_code) province_code AS key, province_name AS name"
        " FROM cooperatives ORDER BY province_code",
    ),
    Dimension.COMMUNE: (
        "c.ward_code",
        "SELECT DISTINCT ON (ward_code) ward_code AS key,"
        " ward_name || ', ' || province_name AS name FROM cooperatives ORDER BY ward_code",
    ),
    Dimension.COOPERATIVE: ("f.cooperative_id", "SELECT id AS key, name FROM cooperatives"),
    Dimension.CATEGORY: ("f.category", None),
    Dimension.PRODUCT: ("f.product_id", "SELECT id AS key, name FROM products"),
    Dimension.CHANNEL: ("f.platform", None),
    Dimension.LIVE_SESSION: (
        "f.live_session_id",
        "SELECT id AS key, title AS name FROM live_sessions",
    ),
}
_NEEDS_COOPERATIVE = frozenset({Dimension.PROVINCE, Dimension.COMMUNE})
_SUMS = ", ".join(f"sum(f.{m})::bigint AS {m}" for m in MEASURE_COLUMNS)
_TOTALS = ", ".join(f"sum(f.{m})::bigint AS total_{m}" for m in MEASURE_COLUMNS)
_ANY_NONZERO = " OR ".join(f"sum(f.{m}) <> 0" for m in MEASURE_COLUMNS)
_FACT_COLUMNS = (
    "day, cooperative_id, platform, live_session_id, category, product_id, "
    + ", ".join(MEASURE_COLUMNS)
)


def grain_for(spec: ReportSpec) -> Grain:
    """Product rows only when products matter, category rows when categories do, else orders."""
    if spec.uses(Dimension.PRODUCT):
        return Grain.PRODUCT
    if spec.uses(Dimension.CATEGORY):
        return Grain.CATEGORY
    return Grain.ORDER


@dataclass
class _Where:
    base: list[str] = field(default_factory=list)
    joined: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def add(self, clause: str, name: str, value: Any, *, joined: bool = False) -> None:
        (self.joined if joined else self.base).append(clause)
        self.params[name] = value


def _filters(spec: ReportSpec, actor: Actor) -> _Where:
    where = _Where()
    categories = [c.value for c in spec.categories]
    channels = [c.value for c in spec.channels]
    lists: tuple[tuple[str, str, list[Any]], ...] = (
        ("cooperative_id = ANY(CAST(:cooperatives AS bigint[]))", "cooperatives",
         list(spec.cooperatives)),
        ("category = ANY(CAST(:categories AS text[]))", "categories", categories),
        ("product_id = ANY(CAST(:products AS bigint[]))", "products", list(spec.products)),
        ("platform = ANY(CAST(:channels AS text[]))", "channels", channels),
        ("live_session_id = ANY(CAST(:live_sessions AS bigint[]))", "live_sessions",
         list(spec.live_sessions)),
    )  # fmt: skip
    for clause, name, values in lists:
        if values:
            where.add(clause, name, values)
    if spec.provinces:
        clause = "c.province_code = ANY(CAST(:provinces AS int[]))"
        where.add(clause, "provinces", spec.provinces, joined=True)
    if spec.communes:
        clause = "c.ward_code = ANY(CAST(:communes AS int[]))"
        where.add(clause, "communes", spec.communes, joined=True)
    _scope(where, actor)
    return where


def _scope(where: _Where, actor: Actor) -> None:
    """Cooperative users see their own cooperative; logistics the provinces of their scope."""
    if actor.sees_all_cooperatives:
        return
    if actor.is_coop_member:
        where.add("cooperative_id = :own_cooperative", "own_cooperative", actor.cooperative_id)
    elif actor.province_codes is not None:
        where.add("c.province_code = ANY(CAST(:scope_provinces AS int[]))", "scope_provinces",
                  list(actor.province_codes), joined=True)  # fmt: skip
    else:
        where.base.append("false")


@dataclass(frozen=True)
class Periods:
    """Whole weeks or months inside the date range: [first, end) period starts, None = open."""

    table: str
    first: date | None
    end: date | None


def _period_start(day: date, unit: Dimension) -> date:
    return day - timedelta(days=day.weekday()) if unit is Dimension.WEEK else day.replace(day=1)


def _next_period(day: date, unit: Dimension) -> date:
    if unit is Dimension.WEEK:
        return day + timedelta(days=7)
    return (day + timedelta(days=32)).replace(day=1)


def whole_periods(spec: ReportSpec) -> Periods | None:
    """The coarsest facts a report may read, and the part of its range they cover.

    Grouped by day (or by week and month at once), or no whole period in the range: None, the
    report reads daily facts only.
    """
    time_keys = TIME_DIMENSIONS.intersection(spec.group_by)
    if Dimension.DAY in time_keys or len(time_keys) > 1:
        return None
    unit = Dimension.WEEK if Dimension.WEEK in time_keys else Dimension.MONTH
    first = spec.date_from
    if first is not None and _period_start(first, unit) != first:
        first = _next_period(_period_start(first, unit), unit)
    end = spec.date_to
    if end is not None:
        end = _period_start(end + timedelta(days=1), unit)
    if first is not None and end is not None and first >= end:
        return None
    table = "tonnage_week_facts" if unit is Dimension.WEEK else "tonnage_month_facts"
    return Periods(table, first, end)


def _select(table: str, conditions: list[str]) -> str:
    return f"SELECT {_FACT_COLUMNS} FROM {table} WHERE {' AND '.join(conditions)}"  # noqa: S608 - names are ours, values are bound


def _union(spec: ReportSpec, grain: Grain, where: _Where, prefix: str = "") -> str:
    """Whole periods from the weekly or monthly facts, the days around them from the daily
    facts, and the pending deltas (always per day)."""
    base = [f"grain = {int(grain)}", *where.base]
    days = [*base]
    if spec.date_from:
        days.append("day >= :date_from")
        where.params["date_from"] = spec.date_from
    if spec.date_to:
        days.append("day <= :date_to")
        where.params["date_to"] = spec.date_to
    periods = whole_periods(spec)
    if periods is None:
        return f"{_select('tonnage_facts', days)} UNION ALL {_select('tonnage_deltas', days)}"
    inside, edges = [*base], []
    # The page and its totals may read different periods: each names its bounds apart.
    first, end = f"{prefix}period_first", f"{prefix}period_end"
    if periods.first is not None:
        inside.append(f"day >= :{first}")
        edges.append(f"(day >= :date_from AND day < :{first})")
        where.params[first] = periods.first
    if periods.end is not None:
        inside.append(f"day < :{end}")
        edges.append(f"(day >= :{end} AND day <= :date_to)")
        where.params[end] = periods.end
    sources = [_select(periods.table, inside), _select("tonnage_deltas", days)]
    if edges:
        sources.append(_select("tonnage_facts", [*base, f"({' OR '.join(edges)})"]))
    return " UNION ALL ".join(sources)


def _source(spec: ReportSpec, grain: Grain, where: _Where, *, join: bool, prefix: str = "") -> str:
    """The union, joined to the cooperatives when a key or a filter needs their address."""
    source = f"({_union(spec, grain, where, prefix)}) AS f"
    if join or where.joined:
        source += " JOIN cooperatives c ON c.id = f.cooperative_id"
    if where.joined:
        source += " WHERE " + " AND ".join(where.joined)
    return source


def report_query(
    spec: ReportSpec, actor: Actor, *, limit: int, offset: int
) -> tuple[TextClause, dict[str, Any]]:
    """One page of groups, each with the number of groups in all pages, beside the totals.

    One statement, so page and totals come from one snapshot; the totals (`total_*`) are on
    every row, and on a single row of NULL keys when the page is empty.
    """
    where = _filters(spec, actor)
    keys = [f"{_DIMENSIONS[d][0]} AS k{n}" for n, d in enumerate(spec.group_by)]
    names = [f"k{n}" for n in range(len(spec.group_by))]
    labels, joins = [], []
    for n, dimension in enumerate(spec.group_by):
        names_of = _DIMENSIONS[dimension][1]
        labels.append(f"n{n}.name AS l{n}" if names_of else f"NULL::text AS l{n}")
        if names_of:
            joins.append(f" LEFT JOIN ({names_of}) AS n{n} ON n{n}.key = p.k{n}")
    order = ", ".join(names)
    if spec.sort is Sort.SOLD_DESC:
        order = f"sold_grams DESC, sold_gmv_vnd DESC, {order}"
    join = bool(_NEEDS_COOPERATIVE.intersection(spec.group_by))
    grouped = (
        f"SELECT {', '.join(keys)}, {_SUMS} FROM {_source(spec, grain_for(spec), where, join=join)}"  # noqa: S608 - names are ours, values are bound
        f" GROUP BY {', '.join(names)} HAVING {_ANY_NONZERO}"
    )
    page = (
        f"SELECT p.*, {', '.join(labels)} FROM ("  # noqa: S608 - names are ours, values are bound
        f"SELECT g.*, count(*) OVER () AS groups FROM ({grouped}) AS g"
        f" ORDER BY {order} LIMIT :limit OFFSET :offset) AS p{''.join(joins)}"
    )
    sql = (
        f"WITH t AS ({_totals(spec, where)}) SELECT t.*, page.* FROM t"  # noqa: S608 - names are ours, values are bound
        f" LEFT JOIN ({page}) AS page ON true ORDER BY {order}"
    )
    return text(sql), {**where.params, "limit": limit, "offset": offset}


def _totals(spec: ReportSpec, where: _Where, prefix: str = "t_") -> str:
    # Grouped by nothing finer than a month: whole months come from the monthly facts, and the
    # grain is the coarsest the filters allow, so every order counts once.
    monthly = spec.model_copy(update={"group_by": [Dimension.MONTH]})
    source = _source(monthly, grain_for(monthly), where, join=False, prefix=prefix)
    return f"SELECT {_TOTALS} FROM {source}"  # noqa: S608 - names are ours, values are bound


def totals_query(spec: ReportSpec, actor: Actor) -> tuple[TextClause, dict[str, Any]]:
    """Everything the filters match (`total_*` columns), each order counted once."""
    where = _filters(spec, actor)
    return text(_totals(spec, where, prefix="")), where.params
