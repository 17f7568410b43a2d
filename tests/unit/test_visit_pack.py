"""The offline pack on plain values: PIN rule, sealing, the inert HTML file, the form from the rules, result files."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re

import pytest

from care.domain import enums, visits
from care.domain.errors import ValidationError
from care.files import visit_pack
from care.i18n import CATALOG
from tests.hostile import all_texts

PIN = "730516"
CREATED = dt.datetime(2026, 6, 10, 9, 0)
EXPIRES = CREATED + dt.timedelta(days=visit_pack.PACK_DAYS)


@pytest.mark.parametrize(
    ("pin", "key"),
    [
        ("12345", "pack.pin_digits"),
        ("12345a", "pack.pin_digits"),
        ("１２３４５６", "pack.pin_digits"),
        ("1" * 17, "pack.pin_digits"),
        ("000000", "pack.pin_trivial"),
        ("123456", "pack.pin_trivial"),
        ("987654", "pack.pin_trivial"),
        ("890123", "pack.pin_trivial"),
        ("135791", "pack.pin_trivial"),
        ("121212", "pack.pin_trivial"),
        ("123123", "pack.pin_trivial"),
        ("520520", "pack.pin_trivial"),
        ("147258", "pack.pin_trivial"),
        ("11223344", None),
        ("730516", None),
        ("20260917", None),
    ],
)
def test_a_pin_is_six_to_sixteen_digits_and_not_trivial(pin, key):
    if key is None:
        assert visit_pack.check_pin(pin) == pin
        return
    with pytest.raises(ValidationError) as refused:
        visit_pack.check_pin(pin)
    assert refused.value.key == key and refused.value.field == "pin"


def _sealed(payload=None, pin=PIN):
    return visit_pack.seal(payload or {"stops": []}, pin, pack_id="a" * 32, created=CREATED, expires=EXPIRES)


def test_a_sealed_pack_opens_with_its_pin_only():
    sealed = _sealed({"stops": [{"name": "张三"}]})
    assert visit_pack.unseal(sealed, PIN) == {"stops": [{"name": "张三"}]}
    with pytest.raises(ValidationError) as refused:
        visit_pack.unseal(sealed, "730517")
    assert refused.value.key == "pack.wrong_pin"
    assert "张三" not in sealed.header and "张三" not in sealed.ciphertext


def test_an_edited_expiry_makes_the_pack_refuse_to_open():
    sealed = _sealed()
    header = json.loads(sealed.header)
    assert header["expires"] == EXPIRES.isoformat() and header["iterations"] == visit_pack.PBKDF2_ITERATIONS
    later = sealed.header.replace(header["expires"], (EXPIRES + dt.timedelta(days=30)).isoformat())
    with pytest.raises(ValidationError):
        visit_pack.unseal(visit_pack.Sealed(later, sealed.ciphertext), PIN)


def test_each_pack_has_its_own_salt_and_nonce():
    one, two = json.loads(_sealed().header), json.loads(_sealed().header)
    assert one["salt"] != two["salt"] and one["nonce"] != two["nonce"]


def test_the_pack_file_holds_hostile_text_only_inside_the_ciphertext_and_no_script_breaks_out():
    texts = all_texts()
    sealed = _sealed({"stops": [{"name": t, "address": t, "notes": t} for t in texts]})
    page = visit_pack.render_html(sealed, leaflet_css="/* css </style> */", leaflet_js="<script>var L;</script>")
    for text in texts:
        if len(text) > 3:
            assert text not in page, text
    opened = len(re.findall(r"<script\b", page, re.I))
    assert len(re.findall(r"</script", page, re.I)) == opened
    assert "</style> */" not in page
    assert visit_pack.unseal(visit_pack.sealed_of(page), PIN)["stops"][0]["name"] == texts[0]


def test_the_pack_page_allows_no_request_to_leave_it():
    page = visit_pack.render_html(_sealed(), leaflet_css="", leaflet_js="")
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    assert "default-src 'none'" in policy and "connect-src 'none'" in policy
    assert not re.search(r"""(src|href)=["']https?:""", page)


def test_the_pack_script_never_parses_text_as_html():
    script = visit_pack.SCRIPT.read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "`"):
        assert sink not in script, sink


def test_the_offline_form_is_the_visit_rules_definitions():
    defs = visit_pack.form_definitions()
    assert tuple(defs["statuses"]) == visits.RECORDED_STATUSES
    assert defs["finding_choices"] == {a: list(c) for a, c in visits.FINDING_CHOICES.items()}
    assert defs["areas_by_group"] == {g: list(a) for g, a in visits.AREAS_BY_GROUP.items()}
    assert tuple(defs["modes"]) == enums.VISIT_MODES and tuple(defs["need_kinds"]) == enums.NEED_KINDS
    assert defs["limits"]["notes"] == visits.NOTES_MAX and tuple(defs["situations"]) == visits.SITUATIONS


def test_the_pack_carries_every_label_its_form_shows_in_both_languages():
    labels = visit_pack.pack_labels()
    wanted = [f"enum.finding.{c}" for cs in visits.FINDING_CHOICES.values() for c in cs]
    wanted += [f"visit.area.{a}" for a in visits.FINDING_AREAS] + [f"enum.mode.{m}" for m in enums.VISIT_MODES]
    wanted += ["visit.mode_required", "visit.cancel_reason_required", "pack.export", "form.status"]
    for key in wanted:
        assert labels[key] == list(CATALOG[key])
    script = visit_pack.SCRIPT.read_text(encoding="utf-8")
    named = {k for k in re.findall(r"""\bt\("([a-z_]+\.[a-z0-9_.]+)""", script) if not k.endswith(".")}
    assert sorted(k for k in named if k not in labels) == []
    assert set(visit_pack.BOOT_LABELS) <= set(CATALOG)


def test_a_count_dependent_english_label_reaches_the_pack_as_singular_plural_and_count():
    zh, en = CATALOG["pack.exported"]
    assert visit_pack.pack_labels()["pack.exported"] == [zh, [en.one, en.other, "n"]]
    script = visit_pack.SCRIPT.read_text(encoding="utf-8")
    assert "Array.isArray(text)" in script  # the pack's t() picks one or other by the count


def test_a_result_file_is_encrypted_and_signed_under_the_packs_secret():
    secret = b"k" * 32
    data = visit_pack.result_file(secret, "a" * 32, [{"client_token": "t" * 32, "notes": "孩子在家"}])
    assert "孩子".encode() not in data and b"client_token" not in data
    file = visit_pack.read_result_file(data)
    assert json.loads(visit_pack.open_result(secret, file))["visits"][0]["notes"] == "孩子在家"
    with pytest.raises(ValidationError) as refused:
        visit_pack.open_result(b"x" * 32, file)
    assert refused.value.key == "pack.bad_signature"
    enc_key, mac_key = visit_pack.result_keys(secret)
    assert enc_key != mac_key and secret not in (enc_key, mac_key)


def test_a_ciphertext_re_signed_without_the_encryption_key_is_refused():
    secret = b"k" * 32
    file = visit_pack.read_result_file(visit_pack.result_file(secret, "a" * 32, []))
    _, mac_key = visit_pack.result_keys(secret)
    other = base64.b64encode(b"\x00" * 40).decode()
    forged = visit_pack.ResultFile(file.pack_id, file.nonce, other, "")
    forged = visit_pack.ResultFile(file.pack_id, file.nonce, other, visit_pack.sign(mac_key, forged.signed_text))
    with pytest.raises(ValidationError):
        visit_pack.open_result(secret, forged)


@pytest.mark.parametrize(
    "data",
    [b"", b"not json", b"[]", b'{"format": "other"}', b'{"format": "caremap.visit_results"}', b"\xff\xfe"],
)
def test_anything_but_a_result_file_is_refused(data):
    with pytest.raises(ValidationError) as refused:
        visit_pack.read_result_file(data)
    assert refused.value.key == "pack.result_not_json"


@pytest.mark.parametrize(
    "visit",
    [
        {"client_token": "short", "person_id": 1},
        {"client_token": "t" * 32, "person_id": "1"},
        {"client_token": "t" * 32, "person_id": True},
        {"client_token": "t" * 32, "person_id": 1, "visited_at": "yesterday"},
        {"client_token": "t" * 32, "person_id": 1, "visited_at": "2026-06-11T09:15:00+08:00"},
        {"client_token": "t" * 32, "person_id": 1, "need": "medical"},
        {"client_token": "t" * 32, "person_id": 1, "enrollment_ids": 3},
        {"client_token": "t" * 32, "person_id": 1, "findings": {"safety": ["ok"]}},
        {"client_token": "t" * 32, "person_id": 1, "enrollment_ids": ["1"]},
    ],
)
def test_a_malformed_visit_refuses_the_payload(visit):
    payload = json.dumps({"pack_id": "a" * 32, "visits": [visit]})
    with pytest.raises(ValidationError):
        visit_pack.read_payload(payload, "a" * 32)


def test_a_payload_naming_another_pack_is_refused():
    with pytest.raises(ValidationError):
        visit_pack.read_payload(json.dumps({"pack_id": "b" * 32, "visits": []}), "a" * 32)
