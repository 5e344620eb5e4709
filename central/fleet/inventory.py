"""The fleet inventory (`inventory.toml`): prefectures → counties → sites (halls) → kiosks, and the
maintenance teams that cover counties. Validated with every problem listed by its key, like kiosk/config.py.

    [[prefectures]]
    id = "lhasa"
    zh = "拉萨市"
    bo = "ལྷ་ས་གྲོང་ཁྱེར།"
      [[prefectures.counties]]
      id = "chengguan"
      zh = "城关区"
      bo = "ཁྲིན་ཀོན་ཆུས།"
        [[prefectures.counties.sites]]
        id = "chengguan-01"
        zh = "城关区第一乡镇服务大厅"
        bo = "..."
        address = "..."
        kiosks = ["cg01-k1", "cg01-k2"]

    [[teams]]
    id = "team-lhasa"
    name = "拉萨运维一组"
    lang = "zh"                      # or "bo": the language of its notifications
    counties = ["chengguan"]
    contacts = [{ name = "...", phone = "138...", email = "..." }]  # first: primary; second: escalation
      [[teams.channels]]
      name = "robot"
      kind = "wecom"                 # webhook | wecom | dingtalk | smtp
      url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=..."

`apply()` writes it into the database in one transaction: rows are upserted; a kiosk no longer in the
file becomes unregistered (never deleted: its history stays); a team no longer in the file is removed
(it must stop receiving notifications). Sites, counties and prefectures are never deleted (alerts name them).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, delete, select, update

from central.fleet import db
from kiosk import fleet_wire
from kiosk.config import parse_model, problems_error, read_config_text

Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
KioskId = Annotated[str, Field(pattern=fleet_wire.KIOSK_ID_RE.pattern)]


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Site(_Item):
    id: Id
    zh: Annotated[str, Field(min_length=1)]
    bo: str = ""
    address: str = ""
    kiosks: list[KioskId] = []


class County(_Item):
    id: Id
    zh: Annotated[str, Field(min_length=1)]
    bo: str = ""
    sites: list[Site] = []


class Prefecture(_Item):
    id: Id
    zh: Annotated[str, Field(min_length=1)]
    bo: str = ""
    counties: list[County] = []


class Contact(_Item):
    name: Annotated[str, Field(min_length=1)]
    phone: Annotated[str, Field(pattern=r"^\+?[0-9][0-9 -]{4,19}$")] | None = None
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")] | None = None


class Channel(BaseModel):
    # extra="allow": a channel kind may take settings of its own (M2's notify reads them from the row).
    model_config = ConfigDict(extra="allow", frozen=True)
    name: Id
    kind: Literal["webhook", "wecom", "dingtalk", "smtp"]
    url: str = ""
    secret: str | None = None
    to: list[str] = []


class Team(_Item):
    id: Id
    name: Annotated[str, Field(min_length=1)]
    lang: Literal["zh", "bo"] = "zh"
    counties: list[Id] = []
    contacts: list[Contact] = []
    channels: list[Channel] = []


class Inventory(_Item):
    prefectures: list[Prefecture] = []
    teams: list[Team] = []

    def county_of_site(self) -> dict[str, str]:
        return {s.id: c.id for p in self.prefectures for c in p.counties for s in c.sites}

    def kiosk_sites(self) -> dict[str, str]:
        return {k: s.id for p in self.prefectures for c in p.counties for s in c.sites for k in s.kiosks}


def _cross_check(inv: Inventory) -> list[str]:
    """What pydantic cannot see: duplicate ids, teams naming unknown counties, channels missing a target."""
    problems: list[str] = []

    def unique(kind: str, ids: list[tuple[str, str]]) -> None:
        seen: dict[str, str] = {}
        for where, i in ids:
            if i in seen:
                problems.append(f"{where}: {kind} id {i!r} is used twice (first at {seen[i]})")
            seen.setdefault(i, where)

    ps = inv.prefectures
    unique("prefecture", [(f"prefectures.{a}.id", p.id) for a, p in enumerate(ps)])
    unique("county", [(f"prefectures.{a}.counties.{b}.id", c.id) for a, p in enumerate(ps)
                      for b, c in enumerate(p.counties)])
    unique("site", [(f"prefectures.{a}.counties.{b}.sites.{d}.id", s.id) for a, p in enumerate(ps)
                    for b, c in enumerate(p.counties) for d, s in enumerate(c.sites)])
    unique("kiosk", [(f"prefectures.{a}.counties.{b}.sites.{d}.kiosks.{e}", k) for a, p in enumerate(ps)
                     for b, c in enumerate(p.counties) for d, s in enumerate(c.sites)
                     for e, k in enumerate(s.kiosks)])
    unique("team", [(f"teams.{a}.id", t.id) for a, t in enumerate(inv.teams)])
    counties = {c.id for p in ps for c in p.counties}
    for a, t in enumerate(inv.teams):
        for b, cid in enumerate(t.counties):
            if cid not in counties:
                problems.append(f"teams.{a}.counties.{b} = {cid!r}: no such county in the inventory")
        unique("channel", [(f"teams.{a}.channels.{b}.name", ch.name) for b, ch in enumerate(t.channels)])
        for b, ch in enumerate(t.channels):
            if ch.kind == "smtp" and not ch.to:
                problems.append(f"teams.{a}.channels.{b}.to: an smtp channel needs at least one address")
            if ch.kind != "smtp" and not ch.url.startswith(("http://", "https://")):
                problems.append(f"teams.{a}.channels.{b}.url = {ch.url!r}: must start with http:// or https://")
    for p in ps:
        if fleet_wire.FLEET_ID in {k for c in p.counties for s in c.sites for k in s.kiosks}:
            problems.append(f"kiosk id {fleet_wire.FLEET_ID!r} is reserved for fleet-wide topics")
    return problems


def parse_inventory(text: str, source: str = "<inventory>") -> Inventory:
    inv = parse_model(Inventory, text, source)
    problems = _cross_check(inv)
    if problems:
        raise problems_error(source, problems)
    return inv


def load_inventory(path: Path | str) -> Inventory:
    p = Path(path)
    return parse_inventory(read_config_text(p, "inventory file"), str(p))


def apply(engine: Engine, inv: Inventory) -> dict[str, int]:
    """Write the inventory into the database (one transaction); counts of what it now holds."""
    kiosk_sites = inv.kiosk_sites()
    with engine.begin() as conn:
        for p in inv.prefectures:
            db.upsert(conn, db.prefectures, {"id": p.id, "name_zh": p.zh, "name_bo": p.bo}, ["id"])
            for c in p.counties:
                db.upsert(conn, db.counties, {"id": c.id, "prefecture_id": p.id, "name_zh": c.zh,
                                              "name_bo": c.bo}, ["id"])
                for s in c.sites:
                    db.upsert(conn, db.sites, {"id": s.id, "county_id": c.id, "name_zh": s.zh, "name_bo": s.bo,
                                               "address": s.address}, ["id"])
        for t in inv.teams:
            db.upsert(conn, db.teams, {
                "id": t.id, "name": t.name, "lang": t.lang, "counties": list(t.counties),
                "contacts": [c.model_dump(exclude_none=True) for c in t.contacts],
                "channels": [ch.model_dump(exclude_none=True) for ch in t.channels]}, ["id"])
        team_ids = [t.id for t in inv.teams]
        conn.execute(delete(db.teams).where(db.teams.c.id.not_in(team_ids)) if team_ids else delete(db.teams))
        for kid, sid in kiosk_sites.items():
            db.upsert(conn, db.kiosks, {"id": kid, "site_id": sid, "registered": True}, ["id"])
        gone = update(db.kiosks).values(registered=False, site_id=None)
        if kiosk_sites:
            gone = gone.where(db.kiosks.c.id.not_in(list(kiosk_sites)))
        conn.execute(gone)
        n_unreg = len(conn.execute(select(db.kiosks.c.id).where(db.kiosks.c.registered.is_(False))).all())
    return {"kiosks": len(kiosk_sites), "teams": len(inv.teams), "unregistered": n_unreg}


# --- a sample fleet, for the demo and the benchmark -----------------------------------------------
_PREFECTURES = [  # the seven prefecture-level divisions of the region
    ("lhasa", "拉萨市", "ལྷ་ས་གྲོང་ཁྱེར།"), ("shigatse", "日喀则市", "གཞིས་ཀ་རྩེ་གྲོང་ཁྱེར།"),
    ("chamdo", "昌都市", "ཆབ་མདོ་གྲོང་ཁྱེར།"), ("nyingchi", "林芝市", "ཉིང་ཁྲི་གྲོང་ཁྱེར།"),
    ("shannan", "山南市", "ལྷོ་ཁ་གྲོང་ཁྱེར།"), ("nagqu", "那曲市", "ནག་ཆུ་གྲོང་ཁྱེར།"),
    ("ngari", "阿里地区", "མངའ་རིས་ས་ཁུལ།"),
]


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def sample_inventory(n_kiosks: int, *, kiosks_per_site: int = 3, sites_per_county: int = 4,
                     webhook_base: str = "http://127.0.0.1:9/hook", seed: int = 7,
                     first_hall: tuple[str, ...] = ()) -> str:
    """TOML text for a fleet of `n_kiosks` over the 7 prefectures (ids `k-00001`...), one team per
    prefecture with a webhook channel at `webhook_base/<team>` (every third team writes Tibetan).
    `first_hall`: kiosk ids that stand in the first hall too (the demo's own kiosk)."""
    rng = random.Random(seed)
    out: list[str] = []
    n_sites = max(1, -(-n_kiosks // kiosks_per_site))
    n_counties = max(len(_PREFECTURES), -(-n_sites // sites_per_county))
    counties_of: dict[str, list[str]] = {p[0]: [] for p in _PREFECTURES}
    kiosk_no = site_no = 0
    for ci in range(n_counties):
        pid, pzh, pbo = _PREFECTURES[ci % len(_PREFECTURES)]
        counties_of[pid].append(f"{pid}-c{ci + 1:03d}")
    for pid, pzh, pbo in _PREFECTURES:
        out += ["[[prefectures]]", f"id = {_q(pid)}", f"zh = {_q(pzh)}", f"bo = {_q(pbo)}", ""]
        for cid in counties_of[pid]:
            out += ["[[prefectures.counties]]", f"id = {_q(cid)}", f"zh = {_q(pzh + cid[-3:] + '县')}",
                    f"bo = {_q(pbo + ' ' + cid[-3:])}", ""]
            for _ in range(sites_per_county):
                if kiosk_no >= n_kiosks:
                    break
                site_no += 1
                take = min(kiosks_per_site, n_kiosks - kiosk_no)
                ids = [f"k-{kiosk_no + i + 1:05d}" for i in range(take)]
                if site_no == 1:
                    ids = [*first_hall, *ids]
                kiosk_no += take
                out += ["[[prefectures.counties.sites]]", f"id = {_q(f'site-{site_no:04d}')}",
                        f"zh = {_q(f'第{site_no}乡镇便民服务大厅')}", f"bo = {_q(f'ཤང་{site_no} ཞབས་ཞུ་ཁང་།')}",
                        f"address = {_q(f'{pzh}{cid[-3:]}县 幸福路{rng.randint(1, 200)}号')}",
                        "kiosks = [" + ", ".join(_q(k) for k in ids) + "]", ""]
    for n, (pid, pzh, _pbo) in enumerate(_PREFECTURES):
        team = f"team-{pid}"
        out += ["[[teams]]", f"id = {_q(team)}", f"name = {_q(pzh + '运维组')}",
                f"lang = {_q('bo' if n % 3 == 2 else 'zh')}",
                "counties = [" + ", ".join(_q(c) for c in counties_of[pid]) + "]",
                "contacts = [" + ", ".join(
                    f"{{ name = {_q(f'{role}{n + 1}')}, phone = {_q(f'1380000{n:02d}{i:02d}')} }}"
                    for i, role in enumerate(("值班员", "组长"))) + "]",
                "[[teams.channels]]", 'name = "robot"', 'kind = "webhook"',
                f"url = {_q(f'{webhook_base.rstrip(chr(47))}/{team}')}", ""]
    return "\n".join(out) + "\n"
