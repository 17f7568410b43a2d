"""Writing the demo's rows fast: Core executemany in chunks, or COPY on PostgreSQL.

A writer takes a model and a list of row dicts (every row with the same keys) and writes them
inside the session's transaction. PostgreSQL runs one ``COPY ... FROM STDIN`` per call through
psycopg 3, several times faster than an executemany of single-row INSERTs; other databases get
Core inserts of CHUNK rows. Inside ``overlapping()`` the copies run on a second thread, so that
the database takes one chunk while the demo makes the next.
"""

from __future__ import annotations

import contextlib
import json
import operator
import queue
import threading
from collections.abc import Iterator
from typing import Any, Protocol, cast

from sqlalchemy import JSON, Table, insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from db.models import Base

CHUNK = 5000
# Chunks waiting for the copying thread at most: the rows in memory stay bounded.
QUEUED = 4


class Writer(Protocol):
    """Writes rows of one model; see the module's docstring."""

    def __call__(self, model: type[Base], rows: list[dict[str, Any]]) -> None: ...

    def overlapping(self) -> contextlib.AbstractContextManager[None]:
        """Within the block the rows may be written while the caller goes on; the caller touches
        the session only after the block (which waits for every row)."""
        ...


def row_writer(session: Session) -> Writer:
    """The fastest way this session's database takes the demo's rows."""
    if session.get_bind().dialect.name == "postgresql":
        return _CopyWriter(session)
    return _InsertWriter(session)


class _InsertWriter:
    def __init__(self, session: Session) -> None:
        self.session = session

    def __call__(self, model: type[Base], rows: list[dict[str, Any]]) -> None:
        # Core inserts of the table: plain executemany, none of the ORM's per-row bookkeeping.
        table = cast(Table, model.__table__)
        for start in range(0, len(rows), CHUNK):
            self.session.execute(insert(table), rows[start : start + CHUNK])

    @contextlib.contextmanager
    def overlapping(self) -> Iterator[None]:
        yield


class _CopyWriter:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.preparer = session.get_bind().dialect.identifier_preparer
        self.json_texts: dict[Any, str] = {}
        self.jobs: queue.Queue[tuple[type[Base], list[dict[str, Any]]] | None] | None = None
        self.failure: Exception | None = None

    def _json(self, value: Any) -> str | None:
        # Visits repeat a few dozen findings millions of times: each one's text is made once.
        if value is None:
            return None
        key = tuple(value.items()) if isinstance(value, dict) else None
        if key is None:
            return json.dumps(value)
        try:
            return self.json_texts[key]
        except KeyError:
            text = self.json_texts[key] = json.dumps(value)
            return text
        except TypeError:  # a value that is not hashable
            return json.dumps(value)

    def _raw(self) -> Any:
        # The psycopg connection under the session's, inside its transaction.
        return self.session.connection().connection.dbapi_connection

    def __call__(self, model: type[Base], rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        if self.jobs is not None:
            if self.failure is not None:
                raise self.failure
            # A copy of the list: the caller clears and refills its own.
            self.jobs.put((model, list(rows)))
            return
        # Rows the ORM still holds (a policy, a provider) go first: the copied rows may point at them.
        self.session.flush()
        self._copy(self._raw(), model, rows)

    @contextlib.contextmanager
    def overlapping(self) -> Iterator[None]:
        self.session.flush()
        raw = self._raw()
        jobs: queue.Queue[tuple[type[Base], list[dict[str, Any]]] | None] = queue.Queue(maxsize=QUEUED)

        def work() -> None:
            while (job := jobs.get()) is not None:
                if self.failure is None:
                    try:
                        self._copy(raw, *job)
                    except Exception as error:  # noqa: BLE001 - raised again in the caller's thread
                        self.failure = error

        thread = threading.Thread(target=work, name="demo-copy", daemon=True)
        thread.start()
        self.jobs = jobs
        try:
            yield
        finally:
            self.jobs = None
            jobs.put(None)
            thread.join()
        if self.failure is not None:
            failure, self.failure = self.failure, None
            raise failure

    def _copy(self, raw: Any, model: type[Base], rows: list[dict[str, Any]]) -> None:
        table = cast(Table, model.__table__)
        names = list(rows[0])
        # Columns the rows leave out take their scalar default, as a Core insert gives them.
        fixed: dict[str, Any] = {}
        for column in table.columns:
            if column.name in rows[0] or column.default is None:
                continue
            if not isinstance(column.default, ScalarElementColumnDefault):
                raise ValueError(f"{table.name}.{column.name} has a computed default: give it in the rows")
            fixed[column.name] = column.default.arg
        columns = names + list(fixed)
        extra = tuple(fixed.values())
        as_json = [i for i, name in enumerate(names) if isinstance(table.c[name].type, JSON)]
        pick = operator.itemgetter(*names)
        single = len(names) == 1
        statement = (
            f"COPY {self.preparer.format_table(table)} "
            f"({', '.join(self.preparer.quote(name) for name in columns)}) FROM STDIN"
        )
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            write = copy.write_row
            for row in rows:
                values: Any = (pick(row),) if single else pick(row)
                if as_json:
                    values = list(values)
                    for i in as_json:
                        values[i] = self._json(values[i])
                write((*values, *extra) if extra else values)
