"""Readers for bulk files (twcs, jsonl, csv): stream records in constant memory."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from typing import IO, Any

from earful.channels.records import Rejection

# A customer's essay must reach validation (which explains the limit) instead of
# stopping the csv module with "field larger than field limit".
csv.field_size_limit(min(sys.maxsize, 64 * 1024 * 1024))


class FileFormat(StrEnum):
    TWCS = "twcs"
    JSONL = "jsonl"
    CSV = "csv"


TWCS_COLUMNS = (
    "tweet_id",
    "author_id",
    "inbound",
    "created_at",
    "text",
    "response_tweet_id",
    "in_response_to_tweet_id",
)
CSV_COLUMNS = ("id", "text", "created_at")

Item = tuple[int, dict[str, Any] | Rejection]


def read_records(stream: IO[str], file_format: FileFormat) -> Iterator[Item]:
    """Yield (record number, connector record or Rejection) for each record in the stream.

    The stream must be opened with errors="surrogateescape" so a bad byte marks one record.
    """
    if file_format is FileFormat.JSONL:
        yield from _read_jsonl(stream)
    elif file_format is FileFormat.TWCS:
        yield from _read_csv(stream, TWCS_COLUMNS, _twcs_record)
    else:
        yield from _read_csv(stream, CSV_COLUMNS, _csv_record)


def _read_jsonl(stream: IO[str]) -> Iterator[Item]:
    for line_number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            yield line_number, Rejection(line_number, "", f"not valid JSON: {exc.msg}")
            continue
        if not isinstance(data, dict):
            yield line_number, Rejection(line_number, "", "a line must hold a JSON object")
            continue
        yield line_number, _jsonl_record(data)


def _jsonl_record(data: dict[str, Any]) -> dict[str, Any]:
    record = {key: value for key, value in data.items() if key not in {"id", "source"}}
    record["external_id"] = _as_id(data.get("id"))
    record["source"] = data
    return record


def _read_csv(stream: IO[str], required: tuple[str, ...], convert: Any) -> Iterator[Item]:
    reader = csv.DictReader(stream)
    missing = [column for column in required if column not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"the file lacks the column(s) {', '.join(missing)}")
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, Rejection(reader.line_num, "", f"unreadable CSV: {exc}")
            continue
        if None in row:
            yield (
                reader.line_num,
                Rejection(
                    reader.line_num, str(row.get(required[0], "")), "more fields than columns"
                ),
            )
            continue
        try:
            yield reader.line_num, convert(row)
        except ValueError as exc:
            yield (
                reader.line_num,
                Rejection(reader.line_num, str(row.get(required[0], "")), str(exc)),
            )


def _twcs_record(row: dict[str, str]) -> dict[str, Any]:
    inbound = (row.get("inbound") or "").strip().lower()
    if inbound not in {"true", "false"}:
        raise ValueError(f"inbound must be True or False, not {inbound[:20]!r}")
    author_id = (row.get("author_id") or "").strip()
    return {
        "external_id": _as_id(row.get("tweet_id")),
        "text": row.get("text") or "",
        "created_at": _twitter_date(row.get("created_at") or ""),
        "direction": "in" if inbound == "true" else "out",
        "kind": "reply" if row.get("in_response_to_tweet_id") else "post",
        "author": {"external_id": author_id, "handle": author_id} if author_id else None,
        "in_reply_to": _as_id(row.get("in_response_to_tweet_id")),
        "source": row,
    }


def _csv_record(row: dict[str, str]) -> dict[str, Any]:
    author_id = (row.get("author_id") or "").strip()
    author: dict[str, Any] | None = None
    if author_id:
        followers = (row.get("author_followers") or "").strip()
        author = {
            "external_id": author_id,
            "handle": row.get("author_handle") or "",
            "display_name": row.get("author_name") or "",
            "audience_size": followers or None,
        }
    record: dict[str, Any] = {
        "external_id": _as_id(row.get("id")),
        "text": row.get("text") or "",
        "created_at": row.get("created_at") or "",
        "author": author,
        "in_reply_to": _as_id(row.get("in_reply_to")),
        "url": row.get("url") or "",
        "source": row,
    }
    for optional in ("direction", "kind"):
        if row.get(optional):
            record[optional] = row[optional]
    return record


def _as_id(value: object) -> str:
    """Normalize an id; pandas-written files turn 123 into "123.0"."""
    if value is None:
        return ""
    text = str(value).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        return text[:-2]
    return text


def _twitter_date(value: str) -> str:
    try:
        return datetime.strptime(value.strip(), "%a %b %d %H:%M:%S %z %Y").isoformat()
    except ValueError:
        raise ValueError(f"created_at {value[:40]!r} is not a Twitter date") from None
