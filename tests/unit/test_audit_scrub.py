"""What the audit log keeps of a detail: digests whole, ID and phone numbers masked wherever they sit."""

from __future__ import annotations

import hashlib

import pytest

from care.audit import scrub

# This digest holds "16120196933", which looks like a mobile number to a text scrubber.
DIGEST = hashlib.sha256(b"file 14").hexdigest()


@pytest.mark.parametrize(
    ("detail", "kept"),
    [
        ({"sha256": DIGEST}, {"sha256": DIGEST}),
        ({"file_sha256": DIGEST}, {"file_sha256": DIGEST}),
        ({"sha256": "522699201603010039"}, {"sha256": "522699********0039"}),
        ({"id_number": "522699201603010039"}, {"id_number": "522699********0039"}),
        ({"phone": "13800001234"}, {"phone": "138****1234"}),
        (
            {"notes": "监护人 13800001234 身份证522699201603010039"},
            {"notes": "监护人 138****1234 身份证522699********0039"},
        ),
        ({"new": {"certificate_no": "52269920160301003942"}}, {"new": {"certificate_no": "522699********003942"}}),
        ({"rows": 3, "ok": True, "none": None}, {"rows": 3, "ok": True, "none": None}),
    ],
)
def test_a_detail_is_stored_with_digests_whole_and_numbers_masked(detail, kept):
    assert scrub(detail) == kept
