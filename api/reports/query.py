"""SQL for a tonnage report: facts plus pending deltas, at the coarsest grain that will do.

One statement reads `tonnage_facts` and `tonnage_deltas` together, so it sees one snapshot:
either before a compaction committed (the deltas still there) or after (folded into the facts),
never both or neither. Every value travels as a bound parameter; only the fixed expressions
below are spliced into the text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import TextClause, text

from api.accounts.scope import Actor
from api.reports.models import MEASURE_COLUMNS, Grain
from api.reports.schemas import Dimension, ReportSpec, Sort

# (key expression, label expression or None, the join it needs)
_DIMENSIONS: dict[Dimension, tuple[str, str | None, str | None]] = {
    Dimension.DAY: ("f.day", None, None),
    Dimension.WEEK: ("date_trunc('week', f.day)::date", None, None),
    Dimension.MONTH: ("date_trunc('month', f.day)::date", None, None),
    Dimension.PROVINCE: ("c.province_code", "c.province_name", None),
    Dimension.COMMUNE: ("c.ward_code", "c.ward_name || ', ' || c.province_name", None),
    Dimension.COOPERATIVE: ("f.cooperative_id", "c.name", None),
    Dimension.CATEGORY: ("f.category", None, None),
    Dimension.PRODUCT: ("f.product_id", "p.name", "LEFT JOIN products p ON p.id = f.product_id"),
    Dimension.CHANNEL: ("f.platform", None, None),
    Dimension.LIVE_SESSION: (
        "f.live_session_id",
        "ls.title",
        "LEFT JOIN live_sessions ls ON ls.id = f.live_session_id",
    ),
}
_SUMS = ", ".join(f"sum(f.{m})::bigint AS {m}" for m in MEASURE_COLUMNS)
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
    if spec.date_from:
        where.add("day >= :date_from", "date_from", spec.date_from)
    if spec.date_to:
        where.add("day <= :date_to", "date_to", spec.date_to)
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


def _union(grain: Grain, base: list[str]) -> str:
    conditions = " AND ".join([f"grain = {int(grain)}", *base])
    return (
        f"SELECT {_FACT_COLUMNS} FROM tonnage_facts WHERE {conditions}"  # noqa: S608 - names are ours, values are bound
        f" UNION ALL SELECT {_FACT_COLUMNS} FROM tonnage_deltas WHERE {conditions}"
    )


def report_query(
    spec: ReportSpec, actor: Actor, *, limit: int, offset: int
) -> tuple[TextClause, dict[str, Any]]:
    """The grouped rows of one page, each with the number of groups in all pages."""
    where = _filters(spec, actor)
    selects: list[str] = []
    groups: list[str] = []
    joins: list[str] = []
    for n, dimension in enumerate(spec.group_by):
        key, label, join = _DIMENSIONS[dimension]
        selects.append(f"{key} AS k{n}, {label or 'NULL::text'} AS l{n}")
        groups += [f"k{n}", f"l{n}"] if label else [f"k{n}"]
        if join and join not in joins:
            joins.append(join)
    order = ", ".join(f"k{n}" for n in range(len(spec.group_by)))
    if spec.sort is Sort.SOLD_DESC:
        order = f"sold_grams DESC, sold_gmv_vnd DESC, {order}"
    sql = (
        f"SELECT {', '.join(selects)}, {_SUMS}, count(*) OVER () AS groups"  # noqa: S608 - names are ours, values are bound
        f" FROM ({_union(grain_for(spec), where.base)}) AS f"
        f" JOIN cooperatives c ON c.id = f.cooperative_id {' '.join(joins)}"
        f" {'WHERE ' + ' AND '.join(where.joined) if where.joined else ''}"
        f" GROUP BY {', '.join(groups)} HAVING {_ANY_NONZERO}"
        f" ORDER BY {order} LIMIT :limit OFFSET :offset"
    )
    return text(sql), {**where.params, "limit": limit, "offset": offset}


def totals_query(spec: ReportSpec, actor: Actor) -> tuple[TextClause, dict[str, Any]]:
    """Everything the filters match, at the coarsest grain they allow (orders counted once)."""
    where = _filters(spec, actor)
    grain = grain_for(spec.model_copy(update={"group_by": [Dimension.DAY]}))
    sql = (
        f"SELECT {_SUMS} FROM ({_union(grain, where.base)}) AS f"  # noqa: S608 - names are ours, values are bound
        f" JOIN cooperatives c ON c.id = f.cooperative_id"
        f" {'WHERE ' + ' AND '.join(where.joined) if where.joined else ''}"
    )
    return text(sql), where.params
