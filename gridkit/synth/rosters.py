"""Rosters: filings, Party organisations, cadres and grid workers, with known gaps."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gridkit.codes import code_names
from gridkit.synth.city import short_community_name
from gridkit.synth.common import random_stream, ratio

__all__ = ["build_rosters", "person_names", "roster_metrics"]

_SURNAMES = {
    "陈": 9.0, "李": 7.0, "黄": 6.5, "张": 5.0, "梁": 4.5, "林": 4.0, "刘": 4.0, "吴": 3.5,
    "罗": 3.0, "何": 3.0, "郑": 2.5, "杨": 2.5, "谢": 2.2, "周": 2.0, "朱": 2.0, "冯": 1.8,
    "邓": 1.8, "曾": 1.8, "彭": 1.5, "叶": 1.5, "许": 1.4, "苏": 1.4, "蔡": 1.4, "潘": 1.3,
    "卢": 1.3, "钟": 1.3, "赖": 1.2, "胡": 1.2, "王": 1.5, "徐": 1.0, "郭": 1.0, "江": 1.0,
    "余": 1.0, "温": 0.9, "方": 0.9, "邱": 0.9, "莫": 0.8, "廖": 0.8, "欧阳": 0.5, "司徒": 0.3,
    "麦": 0.6, "区": 0.4, "骆": 0.4, "伍": 0.6, "关": 0.6, "汤": 0.5, "韦": 0.5, "谭": 0.9,
}
_GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玲文斌辉晓燕思颖嘉"
              "欣俊浩宇轩梓涵诗琪彤家豪健少惠萍淑仪永康锦耀荣培炜婷倩雯慧凯峰锋泽鹏晖瑶怡"
              "卓峻昊珊蕾妍洁凤莲冬雪振海")
_CN_DIGITS = "零一二三四五六七八九"


def _cn_number(n: int) -> str:
    """Chinese numeral for 1–99.

    >>> [_cn_number(n) for n in (1, 10, 12, 20, 35)]
    ['一', '十', '十二', '二十', '三十五']
    """
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _CN_DIGITS[tens] + "十")
    return head + (_CN_DIGITS[ones] if ones else "")


def person_names(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` realistic Cantonese-region person names (surname + 1–2 given characters)."""
    surnames = np.array(list(_SURNAMES))
    weights = np.array(list(_SURNAMES.values()))
    family = rng.choice(surnames, n, p=weights / weights.sum())
    given = np.array(_GIVEN)
    first = rng.choice(given, n)
    second = np.where(rng.random(n) < 0.75, rng.choice(given, n), "")
    return np.char.add(np.char.add(family, first), second).astype(object)


def _uncovered(n: int, share: float, rng: np.random.Generator) -> np.ndarray:
    """A mask of about ``share`` × n grids (at least one when n ≥ 50) left without coverage."""
    mask = rng.random(n) < share
    if n >= 50 and not mask.any():
        mask[rng.integers(n)] = True
    return mask


def _foreign_codes(layer_codes: set[str], communities: np.ndarray, k: int,
                   rng: np.random.Generator) -> list[str]:
    """``k`` plausible grid codes that are not in the layer (superseded serials 9xx)."""
    out: list[str] = []
    while len(out) < k:
        code = f"{rng.choice(communities)}{rng.integers(900, 1000)}"
        if code not in layer_codes and code not in out:
            out.append(code)
    return out


def _filings(grids: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    n = len(grids)
    day = np.datetime64("2023-01-03") + rng.integers(0, 330, n).astype("timedelta64[D]")
    u = rng.random(n)
    status = np.where(u < 0.006, "pending", np.where(u < 0.010, "rejected", "filed"))
    status[_uncovered(n, 0.004, rng) & (status == "filed")] = "missing"
    rows = pd.DataFrame({"grid_code": grids["grid_code"].to_numpy(), "filed_on": day,
                         "status": status})
    refiled = rows[(rows["status"] == "rejected") & (rng.random(n) < 0.4)].assign(
        status="filed", filed_on=lambda t: t["filed_on"] + np.timedelta64(21, "D"))
    return pd.concat([rows[rows["status"] != "missing"], refiled], ignore_index=True)


def _party(grids: pd.DataFrame, names: dict[str, str], rng: np.random.Generator) -> pd.DataFrame:
    keep = grids[~_uncovered(len(grids), 0.025, rng)]
    rows: list[tuple[str, str, str, str]] = []
    for comm, group in keep.groupby("community_code", sort=True):
        short = short_community_name(names[comm])
        street = names[comm[:6]] + names[comm[:9]]
        codes = group["grid_code"].tolist()
        k = i = 0
        while i < len(codes):
            size = int(rng.choice([1, 1, 1, 2, 2, 3]))
            members = codes[i:i + size]
            k += 1
            if len(members) == 1 and rng.random() < 0.4:
                kind, name = "党小组", f"{short}第{_cn_number(k)}网格党小组"
            else:
                kind, name = "党支部", f"中共广州市{street}{short}第{_cn_number(k)}网格党支部"
            rows.extend((f"DZ{comm}{k:02d}", name, kind, code) for code in members)
            i += size
    return pd.DataFrame(rows, columns=["org_id", "org_name", "org_type", "grid_code"])


def _cadres(grids: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    keep = grids[~_uncovered(len(grids), 0.01, rng)].reset_index(drop=True)
    codes = keep["grid_code"].to_numpy()
    # 两委成员: each covers one or two consecutive grids of their community
    pairs = (keep["community_code"].shift(-1) == keep["community_code"]).to_numpy()
    start = np.flatnonzero(np.r_[True, ~pairs[:-1] | (np.arange(1, len(keep)) % 2 == 0)])
    member = np.repeat(np.arange(len(start)), np.diff(np.r_[start, len(keep)]))
    parts = [pd.DataFrame({"who": member, "role": "两委成员", "grid_code": codes})]
    # 科室干部: one per ten grids of a street, one or two random grids each
    for street, group in keep.groupby("street_code", sort=True):
        n_staff = int(np.ceil(len(group) / 10))
        picks = rng.choice(group["grid_code"].to_numpy(), size=min(len(group), 2 * n_staff),
                           replace=False)
        parts.append(pd.DataFrame({"who": f"S{street}-" + (np.arange(len(picks)) % n_staff)
                                   .astype(str).astype(object), "role": "科室干部",
                                   "grid_code": picks}))
        lead = group.groupby("community_code", sort=True)["grid_code"].first().to_numpy()
        parts.append(pd.DataFrame({"who": f"L{street}-" + (np.arange(len(lead)) % 2)
                                   .astype(str).astype(object), "role": "镇街领导",
                                   "grid_code": lead}))
    rows = pd.concat(parts, ignore_index=True)
    return _people(rows, "GB", rng)[["person_id", "name", "role", "grid_code"]]


def _workers(grids: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    n = len(grids)
    keep = np.flatnonzero(~_uncovered(n, 0.03, rng))
    codes = grids["grid_code"].to_numpy()
    comm = grids["community_code"].to_numpy()
    who = keep.copy()
    # a few full-time workers serve two neighbouring grids of one community
    share = (rng.random(len(keep)) < 0.03) & np.r_[False, comm[keep[1:]] == comm[keep[:-1]]]
    share[1:] &= ~share[:-1]
    who[share] = who[np.flatnonzero(share) - 1]
    full = pd.DataFrame({"who": "F" + who.astype(str).astype(object), "kind": "full_time",
                         "grid_code": codes[keep]})
    second = keep[rng.random(len(keep)) < 0.02]
    extra = pd.DataFrame({"who": "G" + second.astype(str).astype(object), "kind": "full_time",
                          "grid_code": codes[second]})
    helper = rng.integers(0, n, int(0.9 * n))
    part = pd.DataFrame({"who": "P" + np.arange(len(helper)).astype(str).astype(object),
                         "kind": "part_time", "grid_code": codes[helper]})
    rows = pd.concat([full, extra, part], ignore_index=True)
    return _people(rows, "WG", rng)[["person_id", "name", "kind", "grid_code"]]


def _people(rows: pd.DataFrame, prefix: str, rng: np.random.Generator) -> pd.DataFrame:
    """Give each distinct ``who`` a person id (``prefix`` + 7 digits) and a name."""
    number, key = pd.factorize(rows["who"])
    names = person_names(len(key), rng)
    serial = np.char.zfill((number + 1).astype(str), 7)
    return rows.assign(person_id=np.char.add(prefix, serial).astype(object), name=names[number])


def _add_roster_issues(table: pd.DataFrame, foreign: list[str], duplicates: int,
                       rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    """Append rows whose grid code is not in the layer, and exact duplicate rows."""
    strays = table.iloc[rng.integers(0, len(table), len(foreign))].assign(grid_code=foreign)
    dups = table.iloc[rng.integers(0, len(table), duplicates)]
    out = pd.concat([table, strays, dups], ignore_index=True)
    return out, {"unknown_grid_code_rows": len(foreign), "unknown_grid_codes": foreign,
                 "duplicate_rows": duplicates}


def build_rosters(grids: pd.DataFrame, divisions: pd.DataFrame, seed: int = 0
                  ) -> tuple[dict[str, pd.DataFrame], dict[str, dict]]:
    """Filings, Party organisations, cadres and grid workers for the grids of a layer.

    Most grids are filed and covered; about 1.5 % are not filed, 2.5 % have no
    Party organisation, 1 % no cadre and 3 % no full-time worker (at least one
    each on layers of 50+ grids). Each table also gets rows whose grid code is
    not in the layer and some exact duplicate rows, as real rosters do.

    Returns
    -------
    tables : ``{"filings", "party", "cadres", "workers"}`` with the contract columns;
    issues : per table, the stray codes and duplicate rows that were added.

    Examples
    --------
    >>> from gridkit.synth import build_city
    >>> city = build_city(120, seed=1, districts=["440104"])
    >>> tables, issues = build_rosters(city.grids, city.divisions)
    >>> tables["party"].columns.tolist()
    ['org_id', 'org_name', 'org_type', 'grid_code']
    """
    rng = random_stream(seed, "rosters")
    names = code_names(divisions)
    layer = pd.DataFrame(grids.drop(columns="geometry", errors="ignore"))
    layer = layer.drop_duplicates("grid_code").reset_index(drop=True)
    codes = set(layer["grid_code"])
    comms = layer["community_code"].unique()
    made = {"filings": _filings(layer, rng), "party": _party(layer, names, rng),
            "cadres": _cadres(layer, rng), "workers": _workers(layer, rng)}
    tables, issues = {}, {}
    for key, (strays, dups) in {"filings": (2, 1), "party": (1, 0), "cadres": (1, 1),
                                "workers": (1, 1)}.items():
        table, issues[key] = _add_roster_issues(
            made[key], _foreign_codes(codes, comms, strays, rng), dups, rng)
        tables[key] = table.sort_values("grid_code", kind="stable", ignore_index=True)
    tables["filings"]["filed_on"] = pd.to_datetime(tables["filings"]["filed_on"]).dt.strftime(
        "%Y-%m-%d")
    return tables, issues


def roster_metrics(grids: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> dict[str, float]:
    """Filing rate, coverages and households per full-time worker (SPEC §3 definitions).

    Grids are the rows of the layer; roster rows whose grid code is not in
    the layer are ignored.

    Examples
    --------
    >>> g = pd.DataFrame({"grid_code": ["a", "b"], "households": [300, 500]})
    >>> t = {"filings": pd.DataFrame({"grid_code": ["a"], "status": ["filed"]}),
    ...      "party": pd.DataFrame({"grid_code": ["a", "b"]}),
    ...      "cadres": pd.DataFrame({"grid_code": ["b"]}),
    ...      "workers": pd.DataFrame({"grid_code": ["a", "x"], "kind": ["full_time"] * 2,
    ...                               "person_id": ["p1", "p2"]})}
    >>> roster_metrics(g, t)["households_per_fulltime_worker"]
    800.0
    """
    codes = grids["grid_code"]
    filings, workers = tables["filings"], tables["workers"]
    full = workers[(workers["kind"] == "full_time") & workers["grid_code"].isin(codes)]
    n_full = full["person_id"].nunique()
    n = len(codes)
    return {
        "grids": n,
        "filing_rate": ratio(codes.isin(filings.loc[filings["status"] == "filed",
                                                     "grid_code"]).sum(), n),
        "party_coverage": ratio(codes.isin(tables["party"]["grid_code"]).sum(), n),
        "cadre_coverage": ratio(codes.isin(tables["cadres"]["grid_code"]).sum(), n),
        "fulltime_worker_coverage": ratio(codes.isin(full["grid_code"]).sum(), n),
        "households_per_fulltime_worker": ratio(grids["households"].sum(), n_full),
    }
