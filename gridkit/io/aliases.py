"""Field aliases: the Chinese, English and pinyin-abbreviation column names that
contractors and departments use, mapped to gridkit's canonical columns (SPEC §1).

``docs/aliases.md`` is generated from this module by :func:`aliases_markdown`;
a test keeps them equal. To regenerate::

    python -c 'from gridkit.io.aliases import aliases_markdown as m; print(m(), end="")' \
        > docs/aliases.md

Matching is case-insensitive, ignores surrounding whitespace and folds
full-width characters (``村（居）编码`` matches ``村(居)编码``). The canonical
name itself always matches. A ``columns={"grid_code": "WGBM"}`` override (CLI
``--column grid_code=WGBM``) takes precedence over the table.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from gridkit.errors import InputError

__all__ = [
    "ALIASES", "BOOL_COLUMNS", "BOOL_VALUES", "CODE_COLUMNS", "DATETIME_COLUMNS", "DBF_ENCODING",
    "DBF_ENCODINGS", "DBF_NAME_BYTES", "KINDS", "LAYER_KINDS", "NUMBER_COLUMNS", "REQUIRED",
    "TABLE_KINDS", "VALUE_MAPS", "ColumnMapping", "ValueMap", "aliases_markdown", "match_key",
    "rename_columns", "resolve_columns", "selected_columns",
]

LAYER_KINDS = ("grids", "communities", "reference")
TABLE_KINDS = ("filings", "party", "cadres", "workers", "events")
KINDS = LAYER_KINDS + TABLE_KINDS

# Aliases shared by every kind that has the column.
_GRID_CODE = ("网格编码", "网格代码", "网格编号", "综合网格编码", "所属网格编码", "所在网格编码",
              "WGBM", "WGDM", "WGBH", "gridcode", "grid_no")
_GRID_NAME = ("网格名称", "网格名", "综合网格名称", "WGMC", "gridname")
_COMMUNITY_CODE = ("所属社区编码", "所属社区代码", "社区编码", "社区代码", "村居编码", "村(居)编码",
                   "社区(村)编码", "村社编码", "SQBM", "SQDM", "CJBM", "comm_code",
                   "communitycode")
_COMMUNITY_NAME = ("社区名称", "村居名称", "村(居)名称", "社区(村)名称", "村社名称",
                   "SQMC", "CJMC", "comm_name", "communityname")
_STREET_CODE = ("街道编码", "街道代码", "镇街编码", "街镇编码", "所属街道编码", "JDBM", "JDDM",
                "town_code", "streetcode")
_DISTRICT_CODE = ("区编码", "区代码", "区县编码", "行政区编码", "所属区编码", "QXBM", "QXDM",
                  "county_code", "districtcode")
_PERSON_ID = ("人员编号", "人员编码", "人员ID", "工号", "RYBH", "staff_id")

#: kind → canonical column → aliases (the canonical name itself always matches too).
ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "grids": {
        "grid_code": _GRID_CODE + ("code",),
        "grid_name": _GRID_NAME + ("name",),
        "community_code": _COMMUNITY_CODE,
        "grid_type": ("网格类型", "网格类别", "WGLX", "type"),
        "households": ("户数", "总户数", "住户数", "实有户数", "HS"),
        "population": ("人口", "人口数", "总人口", "实有人口", "RK", "RKS", "pop"),
        "street_code": _STREET_CODE,
        "district_code": _DISTRICT_CODE,
    },
    "communities": {
        "community_code": _COMMUNITY_CODE + ("code",),
        "community_name": _COMMUNITY_NAME + ("name",),
        "street_code": _STREET_CODE,
        "district_code": _DISTRICT_CODE,
    },
    "reference": {
        "grid_code": _GRID_CODE + ("code",),
        "grid_name": _GRID_NAME + ("name",),
        "community_code": _COMMUNITY_CODE,
    },
    "filings": {
        "grid_code": _GRID_CODE,
        "filed_on": ("备案日期", "备案时间", "BARQ", "BASJ", "filing_date", "filed_date"),
        "status": ("备案状态", "状态", "BAZT", "filing_status"),
    },
    "party": {
        "org_id": ("党组织编码", "党组织代码", "党组织编号", "组织编码", "组织代码", "DZZBM",
                   "org_code"),
        "org_name": ("党组织名称", "组织名称", "党支部名称", "DZZMC"),
        "org_type": ("党组织类型", "党组织类别", "组织类型", "组织类别", "DZZLX"),
        "grid_code": _GRID_CODE,
    },
    "cadres": {
        "person_id": _PERSON_ID + ("干部编号",),
        "name": ("姓名", "干部姓名", "包联干部", "包联干部姓名", "XM"),
        "role": ("职务", "岗位", "角色", "包联职务", "ZW", "position"),
        "grid_code": _GRID_CODE + ("包联网格编码",),
    },
    "workers": {
        "person_id": _PERSON_ID + ("网格员编号",),
        "name": ("姓名", "网格员姓名", "网格员", "XM"),
        "kind": ("专兼职", "专职/兼职", "网格员类型", "人员类型", "类型", "RYLX", "worker_type"),
        "grid_code": _GRID_CODE,
    },
    "events": {
        "event_id": ("工单编号", "工单号", "事件编号", "案件编号", "案件号", "GDBH", "order_id",
                     "case_id"),
        "lon": ("经度", "JD", "lng", "long", "longitude"),
        "lat": ("纬度", "WD", "latitude"),
        "reported_at": ("上报时间", "上报日期", "事件上报时间", "SBSJ", "report_time",
                        "reported_time"),
        "assigned_grid_code": ("转派网格", "转派网格编码", "派遣网格", "派遣网格编码",
                               "分派网格编码", "ZPWG", "assigned_grid"),
        "dispatched_at": ("转派时间", "派遣时间", "派单时间", "分派时间", "ZPSJ", "dispatch_time",
                          "dispatched_time"),
        "closed_at": ("办结时间", "办结日期", "结案时间", "BJSJ", "close_time", "closed_time"),
        "valid_complaint": ("有效投诉", "是否有效投诉", "YXTS", "is_valid_complaint"),
        "category": ("事件类型", "事件类别", "事件分类", "类别", "工单类型", "案件类型", "SJLX",
                     "event_type"),
    },
}

#: kind → canonical columns the file must have (layers also need a geometry).
REQUIRED: dict[str, tuple[str, ...]] = {
    "grids": ("grid_code", "grid_name", "community_code"),
    "communities": ("community_code", "community_name"),
    "reference": ("grid_code",),
    "filings": ("grid_code", "filed_on", "status"),
    "party": ("org_id", "org_name", "org_type", "grid_code"),
    "cadres": ("person_id", "name", "role", "grid_code"),
    "workers": ("person_id", "name", "kind", "grid_code"),
    "events": ("event_id", "lon", "lat", "reported_at"),
}

#: Longest field name of a shapefile's DBF, in bytes, and the encoding of Chinese
#: shapefiles (ArcGIS on Chinese Windows). UTF-8 shapefiles (QGIS, GDAL) cut names to 3
#: Chinese characters; such cuts match only when unambiguous (not 综合网: code or name?).
DBF_NAME_BYTES = 10
DBF_ENCODING = "gbk"
#: Encodings a shapefile's field names are cut in (GBK: 5 Chinese characters; UTF-8: 3).
DBF_ENCODINGS = (DBF_ENCODING, "utf-8")

#: Columns read as codes: ``str``, leading zeros intact, ``123.0`` repaired.
CODE_COLUMNS = frozenset({"grid_code", "community_code", "street_code", "district_code",
                          "assigned_grid_code", "org_id", "person_id", "event_id"})
#: Columns parsed by :func:`gridkit.io.values.parse_datetimes`.
DATETIME_COLUMNS = frozenset({"filed_on", "reported_at", "dispatched_at", "closed_at"})
#: Numeric columns (lon/lat always float64).
NUMBER_COLUMNS = frozenset({"households", "population", "lon", "lat"})
#: Yes/no columns (empty → False).
BOOL_COLUMNS = frozenset({"valid_complaint"})


@dataclass(frozen=True)
class ValueMap:
    """Spellings of a column's values: canonical value → accepted spellings.

    ``strict``: any other non-empty value is an error; otherwise it is kept.
    Values match like column names (case, whitespace, full-width folded).
    """

    values: Mapping[object, tuple[str, ...]]
    strict: bool = True


#: (kind, column) → the values it may take.
VALUE_MAPS: dict[tuple[str, str], ValueMap] = {
    ("filings", "status"): ValueMap({
        "filed": ("filed", "已备案", "备案", "已完成备案", "完成备案", "通过", "审核通过"),
        "pending": ("pending", "待备案", "未备案", "审核中", "待审核", "备案中"),
        "rejected": ("rejected", "退回", "已退回", "不通过", "审核不通过", "驳回"),
    }),
    ("workers", "kind"): ValueMap({
        "full_time": ("full_time", "专职", "专职网格员", "full-time", "fulltime", "full time"),
        "part_time": ("part_time", "兼职", "兼职网格员", "part-time", "parttime", "part time"),
    }),
    ("party", "org_type"): ValueMap({
        "党支部": ("党支部", "支部", "联合党支部", "party branch", "branch"),
        "党小组": ("党小组", "小组", "party group", "group"),
    }, strict=False),
}

#: Spellings of yes/no in :data:`BOOL_COLUMNS` (empty → False).
BOOL_VALUES = ValueMap({
    True: ("true", "t", "1", "1.0", "是", "y", "yes", "有效"),
    False: ("false", "f", "0", "0.0", "否", "n", "no", "无效"),
})


def match_key(name: object) -> str:
    """The form in which column names and values are compared.

    Examples
    --------
    >>> match_key(" WGBM ") == match_key("wgbm")
    True
    >>> match_key("村（居）编码")
    '村(居)编码'
    """
    return unicodedata.normalize("NFKC", str(name)).strip().casefold()


def _check_kind(kind: str) -> None:
    if kind not in ALIASES:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")


def _alias_index(kind: str, dbf: bool = False) -> dict[str, str]:
    """Matching key → canonical column, for one kind.

    With ``dbf`` (shapefile attributes, whose field names hold at most
    :data:`DBF_NAME_BYTES` bytes) each alias cut to that length in GBK or UTF-8
    matches too, unless the cut form would match two canonical columns.
    """
    index = {}
    for canonical, aliases in ALIASES[kind].items():
        for alias in (canonical, *aliases):
            index[match_key(alias)] = canonical
    if dbf:
        cut: dict[str, set[str]] = {}
        for canonical, aliases in ALIASES[kind].items():
            for alias in (canonical, *aliases):
                for encoding in DBF_ENCODINGS:
                    short = alias.encode(encoding)[:DBF_NAME_BYTES].decode(encoding, "ignore")
                    cut.setdefault(match_key(short), set()).add(canonical)
        index = {**{k: c.pop() for k, c in cut.items() if len(c) == 1}, **index}
    return index


def _listing(names: Iterable[object]) -> str:
    return ", ".join(str(n) for n in names) or "(none)"


class ColumnMapping(dict):
    """``{source name: canonical name}`` (what :meth:`pandas.DataFrame.rename` takes),
    plus :attr:`copies`: ``{canonical: canonical}`` for the roles one source column
    fills besides its first (``--column grid_code=X --column grid_name=X``).
    Apply both with :func:`rename_columns`."""

    def __init__(self, *args, copies: Mapping[str, str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.copies: dict[str, str] = dict(copies or {})


def rename_columns(frame, mapping: Mapping[object, str]):
    """``frame`` with the columns renamed by ``mapping`` and, for a
    :class:`ColumnMapping`, the extra roles of a source column added as copies.

    Examples
    --------
    >>> import pandas as pd
    >>> m = resolve_columns(["X"], "reference", {"grid_code": "X", "grid_name": "X"})
    >>> rename_columns(pd.DataFrame({"X": ["a"]}), m).to_dict("list")
    {'grid_code': ['a'], 'grid_name': ['a']}
    """
    out = frame.rename(columns=mapping)
    for extra, first in getattr(mapping, "copies", {}).items():
        out[extra] = out[first]
    return out


def selected_columns(mapping: Mapping[object, str], names: Iterable[object],
                     wanted: frozenset[str] | None) -> list | None:
    """Source columns to read: those whose canonical name is ``wanted`` (None: all).

    A source column filling several roles (:class:`ColumnMapping` copies) is
    read when one of them is wanted.

    Examples
    --------
    >>> selected_columns({"经度": "lon", "纬度": "lat"}, ["经度", "纬度", "x"], frozenset({"lon"}))
    ['经度']
    """
    if wanted is None:
        return None
    wanted = wanted | {first for extra, first in getattr(mapping, "copies", {}).items()
                       if extra in wanted}
    return [name for name in names if mapping.get(name, name) in wanted]


def resolve_columns(
    names: Iterable[object],
    kind: str,
    columns: Mapping[str, str] | None = None,
    *,
    path: str | os.PathLike | None = None,
    ignore: Iterable[object] = (),
    dbf: bool = False,
    required: Iterable[str] | None = None,
) -> ColumnMapping:
    """Work out which source column becomes which canonical column.

    Parameters
    ----------
    names : the file's column names, in file order.
    kind : ``grids``, ``communities``, ``reference``, ``filings``, ``party``,
        ``cadres``, ``workers`` or ``events``.
    columns : overrides ``{canonical: source}`` (``--column``); a source name is
        matched like an alias (case and surrounding whitespace ignored).
    path : the file, for messages.
    ignore : names that take no part (a layer's geometry column).
    dbf : the names come from a shapefile: aliases cut to 10 bytes in GBK
        (``所属社区编码`` → ``所属社区编``, ``community_code`` → ``community_``) or
        UTF-8 (``网格编码`` → ``网格编``) match too, unless the cut form is ambiguous.
    required : the canonical columns that must be found; default ``REQUIRED[kind]``
        (a command that needs fewer, e.g. ``gridkit events`` only ``grid_code``
        of the grids, says so).

    Returns
    -------
    :class:`ColumnMapping`: ``{source name: canonical name}`` for the columns to
    rename (columns that already have their canonical name are included); a
    source given for several canonical columns fills them all (``copies``).

    Raises
    ------
    InputError
        An override names an unknown canonical column or a column the file
        lacks; two source columns match one canonical column; a required
        column is missing (naming it and listing the file's columns); renaming
        would produce two columns of the same name.

    Examples
    --------
    >>> resolve_columns(["网格编码", "网格名称", "SQBM", "备注"], "grids")
    {'网格编码': 'grid_code', '网格名称': 'grid_name', 'SQBM': 'community_code'}
    >>> resolve_columns(["WGBM", "名称", "社区编码"], "grids", {"grid_name": "名称"})
    {'名称': 'grid_name', 'WGBM': 'grid_code', '社区编码': 'community_code'}
    """
    _check_kind(kind)
    ignored = set(ignore)
    names = [n for n in names if n not in ignored]
    by_key: dict[str, list[object]] = {}
    for name in names:
        by_key.setdefault(match_key(name), []).append(name)

    mapping = ColumnMapping()
    for canonical, source in (columns or {}).items():
        if canonical not in ALIASES[kind]:
            raise InputError(
                f"{canonical!r} is not a column of {kind}", path=path,
                hint=f"{{option}}: use one of {_listing(ALIASES[kind])}",
                option=("columns", {canonical: source}))
        found = by_key.get(match_key(source), [])
        if not found:
            raise InputError(
                f"the file has no column {source!r}; its columns are {_listing(names)}",
                path=path, hint="check {option}", option=("columns", {canonical: source}))
        if found[0] in mapping:  # one source column, several roles
            mapping.copies[canonical] = mapping[found[0]]
            continue
        mapping[found[0]] = canonical

    claimed = set(mapping.values()) | set(mapping.copies)
    matches: dict[str, list[object]] = {}
    index = _alias_index(kind, dbf)
    for name in names:
        canonical = index.get(match_key(name))
        if canonical is not None and canonical not in claimed and name not in mapping:
            matches.setdefault(canonical, []).append(name)
    for canonical, sources in matches.items():
        if len(sources) > 1:
            raise InputError(
                f"columns {_listing(repr(s) for s in sources)} all mean {canonical}",
                path=path, hint="choose one with {option}", option=("columns", {canonical: "NAME"}))
        mapping[sources[0]] = canonical

    missing = [c for c in (REQUIRED[kind] if required is None else required)
               if c not in claimed and c not in mapping.values()]
    if missing:
        hints = "; ".join(f"{c}, e.g. {', '.join(ALIASES[kind][c][:3])}" for c in missing)
        raise InputError(
            f"missing required column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} ({hints}); the file has columns {_listing(names)}",
            path=path, hint="map one with {option}", option=("columns", {missing[0]: "NAME"}))

    renamed = [mapping.get(n, n) for n in names] + list(ignored) + list(mapping.copies)
    clash = sorted({str(n) for n in renamed if renamed.count(n) > 1})
    if clash:
        raise InputError(
            f"after renaming to canonical names, column {_listing(clash)} would appear twice",
            path=path, hint="rename the extra column in the file or choose another with {option}",
            option=("columns", {clash[0]: "NAME"}))
    return mapping


def aliases_markdown() -> str:
    """``docs/aliases.md``: the alias and value tables as Markdown.

    Examples
    --------
    >>> "| grid_code | yes |" in aliases_markdown()
    True
    """
    out = [
        "# Field aliases",
        "",
        "<!-- Generated by gridkit.io.aliases.aliases_markdown(); do not edit by hand. -->",
        "",
        "gridkit's loaders (`gridkit.io.read_layer`, `read_table`) rename the columns of a",
        "file to the canonical names of the data model (SPEC §1) using the tables below.",
        "",
        "- Matching ignores case and surrounding whitespace and folds full-width",
        "  characters (`村（居）编码` = `村(居)编码`); the canonical name itself always matches.",
        "- `--column CANONICAL=SOURCE` (library: `columns={\"grid_code\": \"WGBM\"}`) maps a",
        "  column by hand and takes precedence over the table.",
        "- Two columns of one file that mean the same canonical column are an error",
        "  naming both; choose one with `--column`.",
        "- A missing required column is an error naming the file, the column and the",
        "  columns the file has. Optional columns are used when present.",
        "- Other columns are kept under their own names.",
        "- Shapefile field names hold at most 10 bytes, so there an alias cut to 10 bytes",
        "  in GBK or UTF-8 matches too (`所属社区编码` → `所属社区编`, `社区编码` → `社区编`,",
        "  `community_code` → `community_`), unless the cut form would match two canonical",
        "  columns (UTF-8 `综合网格编码` → `综合网`: code or name?); then use `--column`.",
        "",
        "Values:",
        "",
        "- Codes are text with leading zeros kept:",
        "  " + ", ".join(f"`{c}`" for c in sorted(CODE_COLUMNS)) + ".",
        "  `440104001001001.0` (a spreadsheet's float) becomes",
        "  `440104001001001`; scientific notation (`4.40104E+14`: digits lost) is an error",
        "  asking to format the column as text.",
        "- Dates (" + ", ".join(f"`{c}`" for c in sorted(DATETIME_COLUMNS)) + ")",
        "  become `datetime64[ns]` in Beijing time; accepted:",
        "  `2023-05-01 08:00:00`, `2023/5/1 8:00`, `2023年5月1日 8:00`, `2023.05.01`, ISO 8601",
        "  (`2023-05-01T08:00:00`, with an offset converted to Beijing time), `20230501`,",
        "  `20230501080000` and Excel serial day numbers from 25569 (1970) to 73051 (2100);",
        "  empty is missing (NaT), anything else an error naming the row.",
        "- `lon`, `lat` are float64, `households`, `population` numbers; empty is missing,",
        "  anything else that is not a number an error naming the row.",
        "- The enumerations below: an empty cell stays missing, except `valid_complaint`.",
        "",
    ]
    for kind in KINDS:
        geometry = " (and a geometry)" if kind in LAYER_KINDS else ""
        out += [f"## {kind}{geometry}", "", "| column | required | aliases |", "|---|---|---|"]
        for canonical, aliases in ALIASES[kind].items():
            required = "yes" if canonical in REQUIRED[kind] else "no"
            out.append(f"| {canonical} | {required} | {', '.join(aliases)} |")
        out.append("")
    out += ["## Values", ""]
    for (kind, column), value_map in [*VALUE_MAPS.items(), (("events", "valid_complaint"),
                                                            BOOL_VALUES)]:
        rule = ("other values are an error" if value_map.strict
                else "other values are kept as they are")
        if column in BOOL_COLUMNS:
            rule += "; empty is False"
        out += [f"`{kind}.{column}` ({rule}):", "", "| value | spellings |", "|---|---|"]
        out += [f"| {value} | {', '.join(spellings)} |"
                for value, spellings in value_map.values.items()]
        out.append("")
    return "\n".join(out)
