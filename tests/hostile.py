"""Hostile text: names, addresses and notes that are code in some engine the text passes through.

Every payload fits a person's name (64 characters, single spaces). Those that would run code, if
any template engine ever evaluated them, make a directory named :data:`CANARY` in the working
directory of the process, or :data:`CANARY_ABSOLUTE`: :func:`canaries` lists what exists.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CANARY = "cmcanary"
CANARY_ABSOLUTE = Path("/tmp/cmcanary2")

JINJA_EXPRESSIONS = (
    "{{ 7*7 }}",
    "{{7*'7'}}",
    "{{ this }}",
    "{{ kwargs }}",
    "{{ 7*7|string }}",
    "{{lipsum.__globals__.os.mkdir(dict(cmcanary=1)|first)}}",
    "{{cycler.__init__.__globals__.os.mkdir(dict(cmcanary=1)|first)}}",
    "{{lipsum.__globals__.os.mkdir('/tmp/cmcanary2')}}",
    '{{ "a" ~ "b" }}',
    "{{ (dict(ab=1)|list|first) ~ (dict(cd=1)|list|first) }}",
    "{{ ().__class__.__base__.__subclasses__()|length }}",
    "{{ namespace.__init__.__globals__|length }}",
    "{{ range(3)|list }}",
)
JINJA_STATEMENTS = (
    "{% for i in range(3) %}x{% endfor %}",
    "{%set x=lipsum.__globals__.os.mkdir(dict(cmcanary=1)|first)%}",
    "{% raw %}",
    "{% endraw %}",
    "{% if 1 %}yes{% endif %}",
    "{%- include 'x' -%}",
    "{% macro script(this, kwargs) %}",
)
JINJA_COMMENTS = ("{# hidden #}", "{#", "#}", "a {#- b -#} c")
HTML = (
    "<img src=x onerror=alert(1)>",
    "</script><script>alert(1)</script>",
    "<svg onload=alert(1)>",
    '" onmouseover="alert(1)',
    "'><b>x</b>",
    "&lt;b&gt; &amp; &#96;",
)
JAVASCRIPT = ("`", "${alert(1)}", "\\`);alert(1);//", "`${alert(document.domain)}`", "</style><x>")
MARKDOWN = (
    "**bold** _it_ [link](javascript:alert(1))",
    "# heading",
    ":red[red] :material/home: $x^2$",
    "<b>raw html</b> | a | b |",
    "> quote `code`",
)
FORMULA = ("=1+1", '=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(A1)", "-2+3")
OTHER = ("_c0001 _div_0", "%(name)s {0} {}", "' OR 1=1 --", "Robert'); DROP TABLE persons;--", "\\u007b\\u007b 7*7 }}")

PAYLOADS: tuple[str, ...] = (
    *JINJA_EXPRESSIONS,
    *JINJA_STATEMENTS,
    *JINJA_COMMENTS,
    *HTML,
    *JAVASCRIPT,
    *MARKDOWN,
    *FORMULA,
    *OTHER,
)
# Neighbouring records: the second half closes what the first opened, across the data in between.
SPLIT_PAIRS: tuple[tuple[str, str], ...] = (
    ("abc {#", "#} xyz"),
    ("{{ 7*", "7 }}"),
    ("{% if 0 %}", "{% endif %}"),
    ("{% raw %}", "{% endraw %}"),
    ("{{ [", "] }}"),
    ("`${", "}`"),
    ("<!--", "-->"),
)


def all_texts() -> list[str]:
    """Every payload, then both halves of every split pair, in the order they go next to each other."""
    return [*PAYLOADS, *(half for pair in SPLIT_PAIRS for half in pair)]


def canaries(*workdirs: Path) -> list[Path]:
    """The canary directories a payload that ran would have made (in ``workdirs`` and /tmp)."""
    found = [d / CANARY for d in (*workdirs, Path.cwd()) if (d / CANARY).exists()]
    return found + ([CANARY_ABSOLUTE] if CANARY_ABSOLUTE.exists() else [])


@contextlib.contextmanager
def watching_canaries(*workdirs: Path) -> Iterator[None]:
    """Remove stale canaries, run the block, and fail if any canary appeared."""
    for path in canaries(*workdirs):
        shutil.rmtree(path, ignore_errors=True)
    yield
    made = canaries(*workdirs)
    assert not made, f"a payload ran code on the server: {made}"


def person_values(i: int, text: str, village: Any, spread: float = 0.002) -> dict[str, Any]:
    """Form values of the ``i``-th hostile person in ``village``: ``text`` as name, address and notes."""
    from care.domain import ids

    birth = dt.date(2015, 1, 1) + dt.timedelta(days=i)
    body = f"522699{birth:%Y%m%d}{900 + 2 * (i % 50):03d}"
    located = village.lat is not None and village.lon is not None
    return {
        "id_number": body + ids.check_digit(body),
        "name": text,
        "sex": "F",
        "birth_date": birth,
        "village_code": village.code,
        "address": text,
        "notes": text,
        "lat": village.lat + spread * (i + 1) if located else None,
        "lon": village.lon + spread * (i + 1) if located else None,
    }
