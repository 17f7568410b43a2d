"""The demo county's persons, their enrollments, facts, households and family risks."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

from care.demo.common import (
    AGEING_OUT_SHARE,
    CATEGORY_WEIGHTS,
    CHILD_ALSO_DISABLED,
    CHILD_SHARE,
    CHILD_SUBTYPES,
    CHUNK,
    COUPLE_SHARE,
    DEVICES,
    DISABLED_WITH_PARENTS_SHARE,
    ELDERLY_ALSO_DISABLED,
    ELDERLY_SHARE,
    ELDERLY_SUBTYPES,
    ELDERLY_SUBTYPES_DISABLED,
    ENDED_SHARE,
    EXIT_NOTES,
    EXIT_WEIGHTS,
    FAMILY_LIVING,
    GRADE_WEIGHTS,
    GRANDCHILDREN,
    GRANDPARENT_GAP,
    GRANDPARENT_REGISTERED_SHARE,
    GRANDPARENT_SUBTYPES,
    GUARDIANSHIP_BY_SUBTYPE,
    HUKOU_SHARE,
    LIVING_BY_SUBTYPE,
    OTHER_REGIONS,
    PARENT_GAP,
    PERSON_ENDING,
    PRIOR_EPISODE_SHARE,
    PRIOR_EXIT_REASONS,
    REHAB_NEEDS,
    SECOND_GRANDPARENT_SHARE,
    SECOND_PARENT_SHARE,
    SIBLING_GAP,
    SPOUSE_GAP,
    WORKPLACES,
    _at,
    _BuilderBase,
    _Enrollment,
    _Household,
    _mobile,
    _Person,
    _Township,
    _Village,
    _weighted,
    _working_minutes,
    birth_for_age,
    birthday,
    demo_rng,
    id_number,
)
from care.domain import enums, ids, policy, rules
from care.domain.rules import years_before
from care.queries.households import DISABLED_ELDERLY
from db.models import (
    Assignment,
    Base,
    ChildDetails,
    DisabledDetails,
    ElderlyDetails,
    Enrollment,
    Household,
    HouseholdMember,
    Person,
    new_ref,
)


def _active(person: _Person, group: str) -> _Enrollment | None:
    """The person's enrollment of this group open today, if any."""
    return next((e for e in person.enrollments if e.group == group and e.end is None), None)


def _living(person: _Person) -> str:
    """An elder's living arrangement on their open elderly enrollment ('' for anyone else)."""
    enrollment = _active(person, "elderly") if person.kind == "elderly" else None
    return str(enrollment.facts.get("living_arrangement", "")) if enrollment is not None else ""


def _subtype(person: _Person) -> str:
    enrollment = _active(person, "elderly")
    return enrollment.subtype if enrollment is not None else ""


def _older_by(older: _Person, younger: _Person) -> int:
    """Full years from the older person's birth to the younger's (-1 if not older)."""
    if younger.birth < older.birth:
        return -1
    return ids.age_on(older.birth, younger.birth)


def _gap_in(older: _Person, younger: _Person, gap: tuple[int, int]) -> bool:
    return gap[0] <= _older_by(older, younger) <= gap[1]


def _spouses(a: _Person, b: _Person) -> bool:
    """A man and a woman of about the same age (ages today differ by SPOUSE_GAP at most)."""
    if a is b or a.sex == b.sex:
        return False
    first, second = (a, b) if a.birth <= b.birth else (b, a)
    return _older_by(first, second) < SPOUSE_GAP


def _take(pool: list[_Person], found: Iterator[_Person]) -> _Person | None:
    """The first person ``found`` yields (from ``pool``), taken out of the pool."""
    person = next(found, None)
    if person is not None:
        pool.remove(person)
    return person


def _take_youngest(pool: list[_Person], fitting: list[_Person]) -> _Person | None:
    """The youngest of ``fitting`` (from ``pool``), taken out of the pool."""
    if not fitting:
        return None
    person = max(fitting, key=lambda p: p.birth)
    pool.remove(person)
    return person


def _new_home(adults: list[_Person]) -> _Household:
    """A household of one or two elders; with two, the man is the head (户主) and the woman his spouse."""
    head = min(adults, key=lambda p: (p.sex != "M", p.birth))
    home = _Household(head)
    _join(home, head, "head")
    for other in adults:
        if other is not head:
            _join(home, other, "spouse")
    return home


def _join(home: _Household, person: _Person, relation: str) -> None:
    person.home = home
    person.relation = relation
    home.members.append(person)


def _room_for(home: _Household, child: _Person) -> bool:
    """Whether a left-behind child may be a brother or sister of the grandchildren already there."""
    children = [m for m in home.members if m.relation == "grandchild"]
    births = [m.birth for m in children] + [child.birth]
    grandparents = [m for m in home.members if m.relation != "grandchild"]
    return (
        _older_by(home.head, child) <= GRANDPARENT_GAP[1]
        and all(_older_by(g, child) >= GRANDPARENT_GAP[0] for g in grandparents)
        and ids.age_on(min(births), max(births)) < SIBLING_GAP
    )


def _with_grandparents(rng: random.Random, people: list[_Person], elders: list[_Person]) -> None:
    """Children in a grandparent's care at home with one or two grandparents, siblings together."""
    with_grandchildren: list[_Household] = []
    for child in people:
        enrollment = _active(child, "child")
        if enrollment is None or enrollment.facts.get("guardianship") != "grandparent":
            continue
        siblings = next((h for h in with_grandchildren if _room_for(h, child)), None)
        if siblings is not None:
            _join(siblings, child, "grandchild")
            siblings.room -= 1
            if not siblings.room:
                with_grandchildren.remove(siblings)
            continue
        if rng.random() >= GRANDPARENT_REGISTERED_SHARE:
            continue
        # The youngest grandparent who fits: the oldest elders seldom raise a small child.
        head = _take_youngest(
            elders,
            [p for p in elders if _subtype(p) in GRANDPARENT_SUBTYPES and _gap_in(p, child, GRANDPARENT_GAP)],
        )
        if head is None:
            continue
        grandparents = [head]
        if _living(head) == "with_spouse" and rng.random() < SECOND_GRANDPARENT_SHARE:
            spouse = _take(
                elders,
                (
                    p
                    for p in elders
                    if _spouses(head, p)
                    and _subtype(p) in GRANDPARENT_SUBTYPES
                    and _older_by(p, child) >= GRANDPARENT_GAP[0]
                ),
            )
            if spouse is not None:
                grandparents.append(spouse)
        home = _new_home(grandparents)
        _join(home, child, "grandchild")
        home.room = _weighted(rng, GRANDCHILDREN) - 1
        if home.room:
            with_grandchildren.append(home)


def _couples(rng: random.Random, elders: list[_Person]) -> None:
    """Some elderly husbands and wives living together, in one household."""
    for husband in list(elders):
        if husband.home is not None or husband.sex != "M" or _living(husband) != "with_spouse":
            continue
        if rng.random() >= COUPLE_SHARE:
            continue
        wife = _take(elders, (p for p in elders if _spouses(husband, p) and _living(p) == "with_spouse"))
        if wife is not None:
            elders.remove(husband)
            _new_home([husband, wife])


class _PersonsPart(_BuilderBase):
    """The builder's persons."""

    def _persons(self, residents: int, townships: list[_Township]) -> list[_Person]:
        rng = demo_rng(self.seed, f"persons:{residents}")
        villages = [v for t in townships for v in t.villages]
        n_child = round(residents * CHILD_SHARE)
        n_elderly = min(residents - n_child, round(residents * ELDERLY_SHARE))
        kinds = ["child"] * n_child + ["elderly"] * n_elderly + ["disabled"] * (residents - n_child - n_elderly)
        rng.shuffle(kinds)
        # Township seats (社区) are larger; village sizes vary a lot in hill country.
        weights = [1.8 if v.code[9] == "0" else rng.lognormvariate(0, 0.4) for v in villages]
        homes = rng.choices(villages, weights=weights, k=residents)
        persons = [_Person(self.ids["persons"].take(), kind, home) for kind, home in zip(kinds, homes, strict=True)]
        self._pin_coordinator_children(persons, townships[0].villages[:2])

        free = [i for i, p in enumerate(persons) if not p.pinned]
        for kind, share in (("child", CHILD_ALSO_DISABLED), ("elderly", ELDERLY_ALSO_DISABLED)):
            group = [i for i, p in enumerate(persons) if p.kind == kind]
            for i in rng.sample(group, round(len(group) * share)):
                persons[i].also_disabled = True
        ended = rng.sample(free, min(len(free), max(4, round(residents * ENDED_SHARE))))
        for i in ended:
            persons[i].ending = _weighted(rng, EXIT_WEIGHTS[persons[i].kind])
        rest = [i for i in free if persons[i].ending is None]
        for i in rng.sample(rest, min(len(rest), max(2, round(residents * PRIOR_EPISODE_SHARE)))):
            persons[i].prior = True
        children = [i for i in rest if persons[i].kind == "child" and not persons[i].prior]
        for i in rng.sample(children, min(len(children), max(3, round(n_child * AGEING_OUT_SHARE)))):
            persons[i].ageing_out = True

        for person in persons:
            self._identity(rng, person, self.taken)
            self._enroll(rng, person)
        households = self._households(residents, persons)
        self._family_risks(households)
        self._insert_persons(rng, persons)
        self._insert_households(households)
        return persons

    @staticmethod
    def _pin_coordinator_children(persons: list[_Person], villages: list[_Village]) -> None:
        # Small demos spread few people over 300 villages: move enough children into the
        # coordinator's two villages that each colleague has a caseload there.
        for village, wanted in zip(villages, (6, 4), strict=True):
            here = [p for p in persons if p.kind == "child" and p.village is village]
            movable = (p for p in reversed(persons) if p.kind == "child" and p.village not in villages and not p.pinned)
            while len(here) < wanted:
                mover = next(movable, None)
                if mover is None:
                    break
                mover.village = village
                here.append(mover)
            for p in here:
                p.pinned = True

    def _age(self, rng: random.Random, person: _Person) -> dt.date:
        today = self.today
        if person.kind == "child":
            # The sub-type comes first: it sets the age limit (a 困境 child may be 16 or 17).
            person.child_subtype = _weighted(rng, CHILD_SUBTYPES)
            limit = rules.child_age_limit(person.child_subtype)
            if person.ending == "aged_out":
                reached = today - dt.timedelta(days=rng.randint(7, 330))
                return years_before(reached, limit)
            if person.ageing_out:
                reaches = today + dt.timedelta(days=rng.randint(1, 90))
                birth = years_before(reaches, limit)
                if ids.age_on(birth, today) == limit - 1:
                    return birth
            age = rng.randint(2 if person.also_disabled else 0, limit - 1)
            birth = birth_for_age(rng, today, age)
            # Newborns are registered after their first weeks.
            return min(birth, today - dt.timedelta(days=30))
        if person.kind == "elderly":
            age = min(98, max(enums.ELDERLY_MIN_AGE, round(rng.gauss(75, 8))))
            if person.ending == "died":
                age = max(age, rng.randint(75, 95))
            return birth_for_age(rng, today, age)
        roll = rng.random()
        if roll < 0.10:
            age = rng.randint(5, 17)
        elif roll < 0.88:
            age = round(rng.triangular(18, 59, 48))
        else:
            age = rng.randint(60, 90)
        return birth_for_age(rng, today, age)

    def _identity(self, rng: random.Random, person: _Person, taken: set[str]) -> None:
        birth = self._age(rng, person)
        age = ids.age_on(birth, self.today)
        male_share = {"child": 0.52, "disabled": 0.56}.get(person.kind, 0.42 if age >= 80 else 0.48)
        person.sex = "M" if rng.random() < male_share else "F"
        region = self.code[:6] if rng.random() < 0.9 else rng.choice(OTHER_REGIONS)
        while True:
            number = id_number(region, birth, rng.randrange(500) * 2 + (person.sex == "M"))
            if number not in taken:
                taken.add(number)
                break
        person.birth = birth
        person.id_number = number
        # Faker's zh_CN name_male()/name_female() mix genders; the given-name lists do not.
        given = self.fake.first_name_male() if person.sex == "M" else self.fake.first_name_female()
        person.name = self.fake.last_name() + given

    def _start(self, rng: random.Random, person: _Person, group: str) -> dt.date:
        today = self.today
        earliest = max(years_before(today, 6), person.birth)
        if group == "elderly":
            earliest = max(earliest, birthday(person.birth, enums.ELDERLY_MIN_AGE))
        latest = years_before(today, 1)
        if latest < earliest:
            # Young children and new sixty-year-olds joined within the last year.
            latest = max(earliest, today - dt.timedelta(days=7))
        return earliest + dt.timedelta(days=rng.randint(0, (latest - earliest).days))

    def _new_enrollment(self, rng: random.Random, person: _Person, group: str) -> _Enrollment:
        start = self._start(rng, person, group)
        age = ids.age_on(person.birth, self.today)
        if group == "child":
            subtype = person.child_subtype or _weighted(rng, CHILD_SUBTYPES)
            facts = self._child_facts(rng, subtype, age)
        elif group == "elderly":
            table = ELDERLY_SUBTYPES_DISABLED if person.also_disabled else ELDERLY_SUBTYPES
            subtype = _weighted(rng, table)
            facts = self._elderly_facts(rng, subtype, age)
        else:
            subtype = "certified" if rng.random() < 0.85 else "uncertified"
            facts = self._disabled_facts(rng, person, subtype)
        return _Enrollment(self.ids["enrollments"].take(), group, subtype, facts, start)

    def _enroll(self, rng: random.Random, person: _Person) -> None:
        primary = self._new_enrollment(rng, person, person.kind)
        person.enrollments.append(primary)
        if person.also_disabled:
            person.enrollments.append(self._new_enrollment(rng, person, "disabled"))
        if person.ending:
            self._end(rng, person, primary)
        if person.prior:
            self._prior_episode(rng, person, primary)
        for enrollment in person.enrollments:
            self._rate(person, enrollment, rules.NO_FAMILY)

    def _rate(self, person: _Person, enrollment: _Enrollment, family: rules.Family) -> None:
        on = self.today if enrollment.end is None else enrollment.end - dt.timedelta(days=1)
        age = ids.age_on(person.birth, max(on, person.birth))
        level = rules.compute_risk(enrollment.group, enrollment.subtype, enrollment.facts, age, family).level
        enrollment.risk = level
        enrollment.interval = policy.DEFAULT_INTERVALS[(enrollment.group, level)]

    def _end(self, rng: random.Random, person: _Person, primary: _Enrollment) -> None:
        reason = person.ending or "other"
        if reason == "aged_out":
            end = birthday(person.birth, rules.child_age_limit(primary.subtype))
        else:
            end = self.today - dt.timedelta(days=rng.randint(7, 330))
        # Dying or moving away ends every register the person is on, on the same day.
        ending = person.enrollments if reason in PERSON_ENDING else [primary]
        latest_start = max(e.start for e in ending)
        if end <= latest_start:
            end = latest_start + dt.timedelta(days=max(1, (self.today - latest_start).days // 2))
        for enrollment in ending:
            enrollment.end = end
            enrollment.exit_reason = reason
            enrollment.exit_note = rng.choice(EXIT_NOTES) if reason == "other" else ""
        if reason in PERSON_ENDING:
            person.status = PERSON_ENDING[reason]
        elif all(e.end is not None for e in person.enrollments):
            person.status = "exited"

    def _prior_episode(self, rng: random.Random, person: _Person, current: _Enrollment) -> None:
        end = current.start - dt.timedelta(days=rng.randint(30, 300))
        start = end - dt.timedelta(days=rng.randint(120, 900))
        floor = person.birth
        if current.group == "elderly":
            floor = birthday(person.birth, enums.ELDERLY_MIN_AGE)
        start = max(start, floor, years_before(self.today, 8))
        if (end - start).days < 60:
            return
        earlier = _Enrollment(
            self.ids["enrollments"].take(),
            current.group,
            current.subtype,
            dict(current.facts),
            start,
            end,
            PRIOR_EXIT_REASONS[current.group],
        )
        person.enrollments.insert(0, earlier)

    def _child_facts(self, rng: random.Random, subtype: str, age: int) -> dict[str, Any]:
        guardianship = _weighted(rng, GUARDIANSHIP_BY_SUBTYPE[subtype])
        if age <= 2:
            schooling = "not_school_age"
        elif age <= 5:
            schooling = "preschool" if rng.random() < 0.8 else "not_school_age"
        elif age <= 11:
            schooling = "primary"
        elif age <= 14:
            schooling = "junior" if rng.random() < 0.985 else "out_of_school"
        else:
            schooling = _weighted(rng, (("junior", 30), ("senior", 35), ("vocational", 25), ("out_of_school", 10)))
        boarding_share = {"junior": 0.55, "senior": 0.6, "vocational": 0.6}.get(schooling, 0.0)
        if schooling == "primary" and age >= 9:
            boarding_share = 0.15
        has_guardian = guardianship != "none"
        workplace = ""
        if subtype == "left_behind":
            workplace = rng.choice(WORKPLACES)
            if guardianship == "one_parent":
                workplace = f"{rng.choice(('父亲', '母亲'))}：{workplace}"
        return {
            "local_subtype": "",
            "guardianship": guardianship,
            "poor_guardianship": has_guardian and rng.random() < 0.05,
            "guardian_name": self.fake.name() if has_guardian else "",
            "guardian_phone": _mobile(rng) if has_guardian and rng.random() < 0.95 else "",
            "parents_workplace": workplace,
            "schooling": schooling,
            "boarding": rng.random() < boarding_share,
        }

    def _elderly_facts(self, rng: random.Random, subtype: str, age: int) -> dict[str, Any]:
        living = _weighted(rng, LIVING_BY_SUBTYPE[subtype])
        if subtype == "disabled_elderly":
            self_care = "partial" if rng.random() < 0.6 else "none"
        elif subtype == "severe_disabled":
            self_care = "none" if rng.random() < 0.6 else "partial"
        elif age >= 85:
            self_care = _weighted(rng, (("full", 60), ("partial", 35), ("none", 5)))
        else:
            self_care = _weighted(rng, (("full", 88), ("partial", 11), ("none", 1)))
        contact = ""
        if subtype != "special_family":
            relation = rng.choice(("儿子", "女儿"))
            contact = f"{relation} {self.fake.name()} {_mobile(rng)}（{rng.choice(WORKPLACES)}）"
        return {"living_arrangement": living, "self_care": self_care, "children_contact": contact}

    def _disabled_facts(self, rng: random.Random, person: _Person, subtype: str) -> dict[str, Any]:
        weights = CATEGORY_WEIGHTS[person.kind]
        category = rng.choices(enums.DISABILITY_CATEGORIES, weights=weights)[0]
        grade = rng.choices(enums.DISABILITY_GRADES, weights=GRADE_WEIGHTS)[0]
        certificate = f"{person.id_number}{category}{grade}" if subtype == "certified" else None
        devices = ""
        if category in DEVICES and rng.random() < 0.5:
            devices = rng.choice(DEVICES[category])
        return {
            "category": category,
            "grade": grade,
            "certificate_no": certificate,
            "rehab_needs": rng.choice(REHAB_NEEDS[category]) if rng.random() < 0.4 else "",
            "assistive_devices": devices,
        }

    def _households(self, residents: int, persons: list[_Person]) -> list[_Household]:
        """Every person in exactly one household: relatives of one village together, the rest alone."""
        rng = demo_rng(self.seed, f"households:{residents}")
        by_village: dict[str, list[_Person]] = {}
        for person in persons:
            by_village.setdefault(person.village.code, []).append(person)
        for people in by_village.values():
            self._village_households(rng, people)
        households: list[_Household] = []
        numbers: dict[str, int] = {}
        for person in persons:
            if person.home is None:
                person.home = _Household(person, [person])
            home = person.home
            if home.id:
                continue
            home.id = self.ids["households"].take()
            village = home.head.village.code
            if rng.random() < HUKOU_SHARE and numbers.get(village, 0) < 999:
                # 户号: the township and village digits of the village code and a number within it.
                numbers[village] = numbers.get(village, 0) + 1
                home.hukou_no = f"{village[6:]}{numbers[village]:03d}"
            households.append(home)
        return households

    def _village_households(self, rng: random.Random, people: list[_Person]) -> None:
        """Disabled adults with their elderly parents, grandparents with left-behind grandchildren,
        elderly couples; only persons on a register today, all of one village."""
        elders = [p for p in people if _living(p) in FAMILY_LIVING]
        rng.shuffle(elders)
        self._with_parents(rng, people, elders)
        _with_grandparents(rng, people, elders)
        _couples(rng, elders)

    def _with_parents(self, rng: random.Random, people: list[_Person], elders: list[_Person]) -> None:
        """Some disabled adults of working age at home with one or both of their elderly parents."""
        for adult in people:
            if adult.kind != "disabled" or _active(adult, "disabled") is None:
                continue
            if not enums.ADULT_AGE <= ids.age_on(adult.birth, self.today) < enums.ELDERLY_MIN_AGE:
                continue
            if rng.random() >= DISABLED_WITH_PARENTS_SHARE:
                continue
            parent = _take(
                elders, (p for p in elders if _living(p) == "with_relatives" and _gap_in(p, adult, PARENT_GAP))
            )
            if parent is None:
                continue
            parents = [parent]
            if rng.random() < SECOND_PARENT_SHARE:
                other = _take(elders, (p for p in elders if _spouses(parent, p) and _gap_in(p, adult, PARENT_GAP)))
                if other is not None:
                    parents.append(other)
            home = _new_home(parents)
            _join(home, adult, "child")

    def _family_risks(self, households: list[_Household]) -> None:
        """The family rules (care.queries.households.family_of) on the active enrollments of every
        household of two or more; its members are all on a register today."""
        for home in households:
            if len(home.members) < 2:
                continue
            ages = {m: ids.age_on(m.birth, self.today) for m in home.members}
            active = {m: [e for e in m.enrollments if e.end is None] for m in home.members}
            disabled = {
                m
                for m, enrollments in active.items()
                if any(
                    e.group == "disabled" or (e.group == "elderly" and e.subtype in DISABLED_ELDERLY)
                    for e in enrollments
                )
            }
            all_in_care = all(active.values())
            for person in home.members:
                adults = [m for m in home.members if m is not person and ages[m] >= enums.ADULT_AGE]
                frail = bool(adults) and all(ages[m] >= enums.FRAIL_GUARDIAN_AGE or m in disabled for m in adults)
                family = rules.Family(frail_guardians=ages[person] < enums.ADULT_AGE and frail, all_in_care=all_in_care)
                for enrollment in active[person]:
                    self._rate(person, enrollment, family)

    def _insert_persons(self, rng: random.Random, persons: list[_Person]) -> None:
        for person in persons:
            village = person.village
            hamlet = rng.randrange(len(village.hamlets))
            at_lat, at_lon = self._offset(rng, *village.hamlets[hamlet], 0.35)
            located = rng.random() >= 0.02
            address = f"{village.township.name}{village.name}{hamlet + 1}组{rng.randint(1, 80)}号"
            person.place = (address, round(at_lat, 6) if located else None, round(at_lon, 6) if located else None)
            person.created = _at(min(e.start for e in person.enrollments), _working_minutes(rng))
        rows: list[dict[str, Any]] = []
        for person in persons:
            # Members of a household live at its head's address.
            address, lat, lon = person.home.head.place if person.home is not None else person.place
            phone = ""
            first = person.enrollments[0]
            if person.kind == "child":
                if rng.random() < 0.7:
                    phone = first.facts.get("guardian_phone", "")
            elif rng.random() < (0.85 if person.kind == "elderly" else 0.88):
                phone = _mobile(rng)
            created = person.created
            changed = person.status != "active"
            updated = _at(max(e.end or e.start for e in person.enrollments), 600) if changed else created
            rows.append(
                {
                    "id": person.id,
                    "ref": new_ref(),
                    "id_number": person.id_number,
                    "name": person.name,
                    "sex": person.sex,
                    "birth_date": person.birth,
                    "village_code": person.village.code,
                    "county_code": self.code,
                    "address": address,
                    "phone": phone,
                    "lat": lat,
                    "lon": lon,
                    "datum": "WGS84",
                    "status": person.status,
                    "notes": "",
                    "deleted": False,
                    "deleted_at": None,
                    "version": 2 if changed else 1,
                    "created_at": created,
                    "updated_at": max(created, updated),
                }
            )
            if len(rows) >= CHUNK:
                self._insert(Person, rows)
                rows = []
        self._insert(Person, rows)

    def _insert_households(self, households: list[_Household]) -> None:
        rows: list[dict[str, Any]] = []
        members: list[dict[str, Any]] = []

        def flush() -> None:
            self._insert(Household, rows)
            self._insert(HouseholdMember, members)
            rows.clear()
            members.clear()

        for home in households:
            address, lat, lon = home.head.place
            rows.append(
                {
                    "id": home.id,
                    "village_code": home.head.village.code,
                    "hukou_no": home.hukou_no,
                    "address": address,
                    "lat": lat,
                    "lon": lon,
                    "ended_on": None,
                    "merged_into": None,
                    "version": 1,
                    # Recorded with its first member on the registers; each member joined when registered.
                    "created_at": min(m.created for m in home.members),
                    "updated_at": max(m.created for m in home.members),
                }
            )
            members.extend(
                {
                    "id": self.ids["household_members"].take(),
                    "household_id": home.id,
                    "person_id": m.id,
                    "relation": m.relation,
                    "start_date": m.created.date(),
                    "end_date": None,
                }
                for m in home.members
            )
            if len(members) >= CHUNK:
                flush()
        flush()

    def _insert_registers(self, persons: list[_Person]) -> None:
        enrollments: list[dict[str, Any]] = []
        details: dict[str, list[dict[str, Any]]] = {"child": [], "elderly": [], "disabled": []}
        assignments: list[dict[str, Any]] = []
        tables: dict[str, type[Base]] = {"child": ChildDetails, "elderly": ElderlyDetails, "disabled": DisabledDetails}

        def flush() -> None:
            self._insert(Enrollment, enrollments)
            for group, rows in details.items():
                self._insert(tables[group], rows)
                rows.clear()
            self._insert(Assignment, assignments)
            enrollments.clear()
            assignments.clear()

        for person in persons:
            for e in person.enrollments:
                created = _at(e.start, 600)
                enrollments.append(
                    {
                        "id": e.id,
                        "person_id": person.id,
                        "county_code": self.code,
                        "group": e.group,
                        "subtype": e.subtype,
                        "start_date": e.start,
                        "end_date": e.end,
                        "exit_reason": e.exit_reason,
                        "exit_note": e.exit_note,
                        "risk_auto": e.risk,
                        "risk_override": None,
                        "risk_override_reason": "",
                        "risk": e.risk,
                        "last_visit_on": None,
                        "next_due_on": None,
                        "version": 1 if e.end is None else 2,
                        "created_at": created,
                        "updated_at": created if e.end is None else _at(e.end, 600),
                    }
                )
                details[e.group].append({"enrollment_id": e.id, **e.facts})
                for worker, start, end in e.segments:
                    assignments.append(
                        {
                            "id": self.ids["assignments"].take(),
                            "enrollment_id": e.id,
                            "worker_id": worker,
                            "start_date": start,
                            "end_date": end,
                            "created_by": None,
                        }
                    )
            if len(enrollments) >= CHUNK:
                flush()
        flush()
