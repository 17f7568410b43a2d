"""The offline visit pack (离线巡访包) on plain values: the PIN rule, the sealed pack, the result file.

A pack is one standalone HTML file. Its data (the coordinator's persons for the week, the route,
the form definitions taken from care/domain/visits.py and the per-pack signing key) is AES-256-GCM
ciphertext under a key derived from the coordinator's PIN with PBKDF2-HMAC-SHA256 and a random
per-pack salt; the browser decrypts it with WebCrypto. The clear header (pack id, created,
expires, KDF parameters) is the GCM associated data, so an edited expiry makes the pack refuse
to open. Visits recorded in the pack come back as a result file encrypted (AES-GCM) and signed
(HMAC-SHA256 over the exact nonce and ciphertext text) with two keys derived by HKDF-SHA256 from
the per-pack secret that the server keeps and the ciphertext carries; so the file on the phone
shows nothing either, and only someone who opened the pack with its PIN can make one.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import html
import itertools
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from care import i18n
from care.domain import enums, visits
from care.domain.errors import ValidationError

PACK_FORMAT = "caremap.visit_pack"
RESULT_FORMAT = "caremap.visit_results"
FORMAT_VERSION = 1
PACK_DAYS = 10
# Result files are taken up to this many days after the pack expired (the way down the mountain).
RESULT_GRACE_DAYS = 3
PBKDF2_ITERATIONS = 600_000
SALT_BYTES = 16
NONCE_BYTES = 12
KEY_BYTES = 32
HMAC_KEY_BYTES = 32
PIN_MIN, PIN_MAX = 6, 16
RESULT_MAX_BYTES = 5 * 1024 * 1024
RESULT_MAX_VISITS = 2000
TEMPLATE = Path(__file__).resolve().parents[1] / "data" / "visit_pack.html"
SCRIPT = Path(__file__).resolve().parents[1] / "data" / "visit_pack.js"
# Commonly chosen PINs that are not a repetition or a run (those are refused by rule).
COMMON_PINS = frozenset({"123123", "121212", "112233", "520520", "131420", "147258", "159753", "123321", "654321"})


def check_pin(pin: str) -> str:
    """The PIN when it is 6–16 digits and not trivial (one digit, a run, a repeated pattern, a common one)."""
    text = str(pin or "").strip()
    if not re.fullmatch(r"[0-9]+", text) or not PIN_MIN <= len(text) <= PIN_MAX:
        raise ValidationError("pack.pin_digits", field="pin", min=PIN_MIN, max=PIN_MAX)
    steps = {(int(b) - int(a)) % 10 for a, b in itertools.pairwise(text)}
    repeated = any(len(text) % n == 0 and text == text[:n] * (len(text) // n) for n in range(1, len(text) // 2 + 1))
    if len(steps) == 1 or repeated or text in COMMON_PINS:
        raise ValidationError("pack.pin_trivial", field="pin")
    return text


def derive_key(pin: str, salt: bytes, iterations: int = PBKDF2_ITERATIONS) -> bytes:
    """The AES key of a pack: PBKDF2-HMAC-SHA256 of the PIN (as WebCrypto derives it)."""
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=salt, iterations=iterations)
    return kdf.derive(pin.encode("utf-8"))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def header_text(*, pack_id: str, created: dt.datetime, expires: dt.datetime, salt: bytes, nonce: bytes) -> str:
    """The pack's clear header, exactly as it is authenticated (GCM associated data) and embedded."""
    header = {
        "format": PACK_FORMAT,
        "v": FORMAT_VERSION,
        "pack_id": pack_id,
        "created": created.isoformat(timespec="seconds"),
        "expires": expires.isoformat(timespec="seconds"),
        "kdf": "PBKDF2-SHA256",
        "iterations": PBKDF2_ITERATIONS,
        "salt": _b64(salt),
        "nonce": _b64(nonce),
    }
    return json.dumps(header, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Sealed:
    """A sealed pack: the clear header text and the base64 ciphertext of its data."""

    header: str
    ciphertext: str


def seal(
    payload: Mapping[str, Any],
    pin: str,
    *,
    pack_id: str,
    created: dt.datetime,
    expires: dt.datetime,
    salt: bytes | None = None,
) -> Sealed:
    """Encrypt ``payload`` (JSON) under the PIN, binding the header (expiry included) as associated data."""
    salt = salt or os.urandom(SALT_BYTES)
    nonce = os.urandom(NONCE_BYTES)
    header = header_text(pack_id=pack_id, created=created, expires=expires, salt=salt, nonce=nonce)
    plain = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    cipher = AESGCM(derive_key(pin, salt)).encrypt(nonce, plain, header.encode("utf-8"))
    return Sealed(header, _b64(cipher))


def unseal(sealed: Sealed, pin: str) -> dict[str, Any]:
    """The pack's data, or ``pack.wrong_pin`` when the PIN is wrong or the header or data was edited."""
    header = json.loads(sealed.header)
    key = derive_key(pin, base64.b64decode(header["salt"]), int(header["iterations"]))
    try:
        plain = AESGCM(key).decrypt(
            base64.b64decode(header["nonce"]), base64.b64decode(sealed.ciphertext), sealed.header.encode("utf-8")
        )
    except InvalidTag:
        raise ValidationError("pack.wrong_pin", field="pin") from None
    data: dict[str, Any] = json.loads(plain)
    return data


# --- what the pack's form is made of ---------------------------------------------------------------

PACK_LABELS = (
    "form.status",
    "form.mode",
    "form.visited_at",
    "visit_form.time",
    "form.findings",
    "visit_form.not_checked",
    "visit_form.area_note",
    "visit_form.notes",
    "visit_form.need",
    "form.kind",
    "visit_form.no_need",
    "form.department",
    "form.description",
    "form.situation",
    "visit_form.no_change",
    "form.cancel_reason",
    "form.enrollment_ids",
    "my_visits.next_due",
    "my_visits.what_to_check",
    "my_visits.check_concern",
    "my_visits.check_need",
    "my_visits.planned_day",
    "person_file.risk",
    "person_file.age_value",
    "visit_form.save",
    "visit.not_met_keeps_due",
)


def _pack_keys() -> list[str]:
    keys = list(PACK_LABELS)
    keys += [k for k in i18n.CATALOG if k.startswith(("pack.", "visit.", "needs.", "risk.reason."))]
    keys += [f"visit.area.{a}" for a in visits.FINDING_AREAS]
    keys += [f"enum.finding.{c}" for cs in visits.FINDING_CHOICES.values() for c in cs]
    keys += [f"enum.situation.{s}" for s in visits.SITUATIONS]
    keys += [f"enum.visit_status.{s}" for s in visits.RECORDED_STATUSES]
    keys += [f"enum.mode.{m}" for m in enums.VISIT_MODES]
    keys += [f"enum.need_kind.{k}" for k in enums.NEED_KINDS]
    keys += [f"enum.group.{g}" for g in enums.GROUPS]
    keys += [f"enum.subtype.{s}" for ss in enums.SUBTYPES.values() for s in ss]
    keys += [f"enum.risk.{r}" for r in enums.RISKS]
    keys += [f"enum.sex.{s}" for s in ("M", "F")]
    facts = ("guardianship", "schooling", "living_arrangement", "self_care", "category", "grade")
    keys += [k for k in i18n.CATALOG if k.startswith(tuple(f"enum.{f}." for f in facts))]
    return sorted(set(keys))


def _label(key: str) -> list[Any]:
    """``[zh, en]``; an English text that depends on a count is ``[one, other, by]`` (care/data/visit_pack.js picks)."""
    zh, en = i18n.CATALOG[key]
    return [zh, list(en) if isinstance(en, i18n.Plural) else en]


def pack_labels() -> dict[str, list[Any]]:
    """Every catalog label the pack shows, in both languages: ``{key: [zh, en]}``."""
    return {k: _label(k) for k in _pack_keys() if k in i18n.CATALOG}


# Labels shown before the PIN opens the pack (nothing about any person).
BOOT_LABELS = (
    "pack.title",
    "pack.pin",
    "pack.open",
    "pack.opening",
    "pack.wrong_pin",
    "pack.expired_open",
    "pack.expires_on",
    "pack.bad_file",
    "pack.no_crypto",
)


def boot_labels() -> dict[str, list[Any]]:
    """The labels of the PIN screen, both languages."""
    return {k: _label(k) for k in BOOT_LABELS}


def form_definitions() -> dict[str, Any]:
    """The visit form as data, from the same definitions the online form and the service use."""
    return {
        "statuses": list(visits.RECORDED_STATUSES),
        "modes": list(enums.VISIT_MODES),
        "finding_choices": {a: list(c) for a, c in visits.FINDING_CHOICES.items()},
        "finding_areas": list(visits.FINDING_AREAS),
        "areas_by_group": {g: list(a) for g, a in visits.AREAS_BY_GROUP.items()},
        "note_suffix": visits.NOTE_SUFFIX,
        "situations": list(visits.SITUATIONS),
        "situation_needs_child": ["parent_returned"],
        "need_kinds": list(enums.NEED_KINDS),
        "need_needs_description": ["other"],
        "limits": {
            "finding_note": visits.FINDING_NOTE_MAX,
            "notes": visits.NOTES_MAX,
            "cancel_reason": visits.CANCEL_REASON_MAX,
            "department": visits.DEPARTMENT_MAX,
            "description": visits.NEED_DESCRIPTION_MAX,
        },
    }


def _json_for_script(value: Any) -> str:
    """JSON that cannot end or open a tag inside a ``<script type="application/json">``."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_html(sealed: Sealed, *, leaflet_css: str, leaflet_js: str, lang: str = i18n.DEFAULT_LANG) -> str:
    """The pack as one HTML file: Leaflet and the pack's script inlined, its data as ciphertext."""
    blob = _json_for_script({"header": sealed.header, "ciphertext": sealed.ciphertext})
    boot = _json_for_script({"labels": boot_labels(), "lang": lang if lang in i18n.LANGS else i18n.DEFAULT_LANG})
    script = SCRIPT.read_text(encoding="utf-8").replace("</script", "<\\/script")
    page = TEMPLATE.read_text(encoding="utf-8")
    parts = {
        "/*LEAFLET_CSS*/": leaflet_css.replace("</style", "<\\/style"),
        "<!--LEAFLET_JS-->": leaflet_js,
        "/*PACK_JS*/": script,
        "/*PACK_DATA*/": blob,
        "/*PACK_BOOT*/": boot,
        "PACK_TITLE": html.escape(i18n.t("pack.title", lang)),
    }
    # One pass over the template: nothing inserted is searched again for markers.
    page = re.sub("|".join(re.escape(m) for m in parts), lambda m: parts[m.group(0)], page)
    return page


# --- the result file -------------------------------------------------------------------------------


RESULT_ENCRYPTION = b"caremap visit results: encryption"
RESULT_SIGNATURE = b"caremap visit results: signature"


def result_keys(secret: bytes) -> tuple[bytes, bytes]:
    """The AES key and the HMAC key of a pack's results, both HKDF-SHA256 of the pack's secret."""
    derived = [
        HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(secret)
        for info in (RESULT_ENCRYPTION, RESULT_SIGNATURE)
    ]
    return derived[0], derived[1]


def sign(mac_key: bytes, text: str) -> str:
    """HMAC-SHA256 (hex) of the text's UTF-8 bytes."""
    return hmac.new(mac_key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def signature_ok(mac_key: bytes, text: str, signature: str) -> bool:
    """Whether ``signature`` is the text's HMAC under the key (constant-time compare)."""
    return hmac.compare_digest(sign(mac_key, text), str(signature))


@dataclass(frozen=True)
class ResultFile:
    """A result file as read, before its signature is checked: the pack it names, its sealed payload."""

    pack_id: str
    nonce: str
    payload: str
    signature: str

    @property
    def signed_text(self) -> str:
        """What the signature covers: the nonce and the ciphertext, exactly as written."""
        return self.nonce + "." + self.payload


def read_result_file(data: bytes) -> ResultFile:
    """The pack id, nonce, sealed payload and signature of a result file; anything else is refused."""
    if len(data) > RESULT_MAX_BYTES:
        raise ValidationError("pack.result_too_large", field="file", limit=RESULT_MAX_BYTES // (1024 * 1024))
    try:
        outer = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise ValidationError("pack.result_not_json", field="file") from None
    if not isinstance(outer, dict) or outer.get("format") != RESULT_FORMAT:
        raise ValidationError("pack.result_not_json", field="file")
    values = [outer.get(k) for k in ("pack_id", "nonce", "payload", "signature")]
    if not all(isinstance(v, str) and v for v in values):
        raise ValidationError("pack.result_not_json", field="file")
    return ResultFile(*(str(v) for v in values))


def open_result(secret: bytes, file: ResultFile) -> str:
    """The payload text of a result file whose signature and ciphertext hold under the pack's secret."""
    enc_key, mac_key = result_keys(secret)
    if not signature_ok(mac_key, file.signed_text, file.signature):
        raise ValidationError("pack.bad_signature", field="file")
    try:
        plain = AESGCM(enc_key).decrypt(
            base64.b64decode(file.nonce), base64.b64decode(file.payload), file.pack_id.encode("utf-8")
        )
        return plain.decode("utf-8")
    except (InvalidTag, ValueError):
        raise ValidationError("pack.bad_signature", field="file") from None


@dataclass(frozen=True)
class PackVisit:
    """One visit as the pack recorded it (values still to be checked by the visit rules)."""

    number: int
    client_token: str
    person_id: int
    enrollment_ids: tuple[int, ...]
    status: str
    mode: str | None
    visited_at: dt.datetime | None
    findings: dict[str, Any]
    notes: str
    cancel_reason: str
    need: dict[str, str] | None
    situation: str | None


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("not an integer")
    return value


def _opt_text(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError("not text")
    return value


def _visit(number: int, raw: Any) -> PackVisit:
    if not isinstance(raw, dict):
        raise ValueError("not an object")
    token = raw.get("client_token")
    if not isinstance(token, str) or not re.fullmatch(r"[A-Za-z0-9-]{16,64}", token):
        raise ValueError("bad token")
    when = _opt_text(raw.get("visited_at"))
    visited_at = dt.datetime.fromisoformat(when) if when else None
    if visited_at is not None and visited_at.tzinfo is not None:
        raise ValueError("times are county-local, without a zone")
    findings = raw.get("findings") or {}
    need = raw.get("need")
    if not isinstance(findings, dict) or not all(isinstance(v, str) for v in findings.values()):
        raise ValueError("bad findings")
    if need is not None and (not isinstance(need, dict) or not all(isinstance(v, str) for v in need.values())):
        raise ValueError("bad need")
    return PackVisit(
        number=number,
        client_token=token,
        person_id=_int(raw.get("person_id")),
        enrollment_ids=tuple(_int(i) for i in raw.get("enrollment_ids") or ()),
        status=str(raw.get("status") or ""),
        mode=_opt_text(raw.get("mode")),
        visited_at=visited_at,
        findings=dict(findings),
        notes=_opt_text(raw.get("notes")) or "",
        cancel_reason=_opt_text(raw.get("cancel_reason")) or "",
        need=dict(need) if need else None,
        situation=_opt_text(raw.get("situation")),
    )


def read_payload(payload: str, pack_id: str) -> list[PackVisit]:
    """The visits of a signed payload that names the same pack; a malformed payload is refused."""
    try:
        data = json.loads(payload)
        if not isinstance(data, dict) or data.get("pack_id") != pack_id or not isinstance(data.get("visits"), list):
            raise ValueError("bad payload")
        if len(data["visits"]) > RESULT_MAX_VISITS:
            raise ValueError("too many visits")
        found = [_visit(n, raw) for n, raw in enumerate(data["visits"], start=1)]
    except (ValueError, TypeError):
        raise ValidationError("pack.result_not_json", field="file") from None
    return found


def sealed_of(page: str) -> Sealed:
    """The sealed data of a pack's HTML file (to open it outside a browser, with the PIN)."""
    found = re.search(r'<script type="application/json" id="pack-data">(.*?)</script>', page, re.S)
    if found is None:
        raise ValidationError("pack.bad_file", field="file")
    data = json.loads(found.group(1))
    return Sealed(data["header"], data["ciphertext"])


def result_file(secret: bytes, pack_id: str, visits: list[dict[str, Any]]) -> bytes:
    """A result file as the pack exports it: the visits encrypted, then signed, under the pack's secret."""
    enc_key, mac_key = result_keys(secret)
    payload = json.dumps({"pack_id": pack_id, "visits": visits}, ensure_ascii=False, separators=(",", ":"))
    nonce = os.urandom(NONCE_BYTES)
    cipher = AESGCM(enc_key).encrypt(nonce, payload.encode("utf-8"), pack_id.encode("utf-8"))
    file = ResultFile(pack_id, _b64(nonce), _b64(cipher), "")
    outer = {"format": RESULT_FORMAT, "pack_id": pack_id, "nonce": file.nonce, "payload": file.payload}
    return json.dumps(outer | {"signature": sign(mac_key, file.signed_text)}).encode("utf-8")
