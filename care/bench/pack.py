"""Offline visit pack benchmarks, on a copy of the database (they write).

``build_pack`` seals a pack of ``PACK_PERSONS`` persons of the busiest coordinator (the week's
cards, route and form, PBKDF2 600,000 iterations, AES-GCM, Leaflet inlined) and reports its size;
``browser_open`` opens that file in Chromium with the network cut off, types the PIN and times
until the decrypted list is shown (skipped when Playwright or /usr/bin/chromium is missing);
``import_results`` checks and writes a signed result file of one visit per person through the
same service as 我的巡访; ``reimport_results`` uploads it again (everything already in).
"""

from __future__ import annotations

import base64
import datetime as dt
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from care.auth import scope_of
from care.bench.common import copy_database, line
from care.domain import clock
from care.files import visit_pack
from care.queries.visits import HouseholdItem, VisitItem, my_week
from care.scope import Scope
from care.services.visit_packs import apply_results, seal_pack
from db.models import Assignment, User
from db.session import get_engine, reading, transaction

PACK_PERSONS = 150
PIN = "730516"
BROWSER_RUNS = 5
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def _busiest_coordinator(engine: Engine) -> Scope:
    with reading(engine) as session:
        counts = (
            select(Assignment.worker_id, func.count().label("n"))
            .where(Assignment.end_date.is_(None))
            .group_by(Assignment.worker_id)
            .subquery()
        )
        user = session.scalar(
            select(User)
            .join(counts, counts.c.worker_id == User.worker_id)
            .where(User.role == "coordinator", User.active.is_(True))
            .order_by(counts.c.n.desc())
            .limit(1)
        )
        if user is None:
            raise SystemExit("no coordinator account in this database; build it with python -m care.demo")
        return scope_of(user)


def _items(engine: Engine, scope: Scope) -> list[VisitItem]:
    """The coordinator's persons, every one due (the clock is set far enough ahead), in route order."""
    with reading(engine) as session:
        week = my_week(session, scope, clock.today())
    people = [p for i in week.items for p in (i.people if isinstance(i, HouseholdItem) else (i,))]
    return people[:PACK_PERSONS]


def _results(hmac_key: bytes, pack_id: str, items: list[VisitItem], at: dt.datetime) -> bytes:
    visits: list[dict[str, Any]] = []
    for n, item in enumerate(items):
        groups = {e.group for e in item.enrollments}
        visits.append(
            {
                "client_token": uuid.uuid4().hex,
                "person_id": item.person_id,
                "enrollment_ids": [e.id for e in item.enrollments],
                "status": "not_met" if n % 10 == 0 else "done",
                "mode": "home",
                "visited_at": at.isoformat(timespec="seconds"),
                "findings": {} if n % 10 == 0 else {"safety": "ok", "health": "good"},
                "notes": "入户走访，情况稳定" if "child" in groups else "",
                "cancel_reason": "",
                "need": {"kind": "medical", "department": "卫生院", "description": "复查"} if n % 15 == 1 else None,
                "situation": None,
            }
        )
    return visit_pack.result_file(hmac_key, pack_id, visits)


def _browser_open(path: Path) -> list[float] | None:
    """Seconds from the PIN typed to the decrypted list shown, per fresh page (None without a browser)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not CHROMIUM.exists():
        return None
    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for _ in range(BROWSER_RUNS):
            context = browser.new_context(viewport={"width": 390, "height": 844})
            context.set_offline(True)
            page = context.new_page()
            page.goto(path.as_uri())
            page.fill("#pin", PIN)
            start = time.perf_counter()
            page.click("#open")
            page.wait_for_selector(".card", timeout=60_000)
            times.append(time.perf_counter() - start)
            context.close()
        browser.close()
    return times


def bench_pack(engine: Engine, n: int) -> Iterator[dict[str, Any]]:
    """Build a 150-person pack, open it in Chromium, import its 150 results and import them again."""
    copy = get_engine(str(copy_database(engine)))
    scope = _busiest_coordinator(copy)
    later = dt.datetime.combine(clock.today() + dt.timedelta(days=400), dt.time(12, 0))
    clock.freeze(later)
    try:
        items = _items(copy, scope)
        times = []
        for _ in range(3):
            start = time.perf_counter()
            with transaction(copy) as session:
                issued = seal_pack(session, scope, items=items, pin=PIN, lang="zh", valid_days=visit_pack.PACK_DAYS)
            times.append(time.perf_counter() - start)
        size = len(issued.html.encode("utf-8"))
        yield line("pack", "build_pack", n, times, persons=len(items), bytes=size)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "visit-pack.html"
            path.write_text(issued.html, encoding="utf-8")
            opened = _browser_open(path)
        if opened is not None:
            yield line("pack", "browser_open", n, opened, persons=len(items), bytes=size)
        key = base64.b64decode(visit_pack.unseal(visit_pack.sealed_of(issued.html), PIN)["hmac_key"])
        data = _results(key, issued.pack_id, items, later - dt.timedelta(hours=1))
        for case in ("import_results", "reimport_results"):
            start = time.perf_counter()
            with transaction(copy) as session:
                applied = apply_results(session, scope, data=data)
            seconds = time.perf_counter() - start
            yield line("pack", case, n, [seconds], visits=len(items), written=applied.written, already=applied.already)
    finally:
        clock.freeze(None)
        copy.dispose()
