"""File readers: each format becomes connector records; a bad row becomes a numbered rejection."""

from __future__ import annotations

import io

import pytest

from earful.channels.files import FileFormat, read_records
from earful.channels.records import Rejection

TWCS = (
    "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
    "1,acmecare,False,Tue Oct 31 22:10:47 +0000 2017,@115712 Sorry! DM us.,,2.0\n"
    "2,115712,True,Tue Oct 31 22:08:27 +0000 2017,@acmecare my bag is lost,1,\n"
    "3,115713,maybe,Tue Oct 31 22:08:27 +0000 2017,bad inbound,,\n"
    "4,115714,True,31/10/2017,bad date,,\n"
)


def _read(text: str, fmt: FileFormat) -> list[tuple[int, object]]:
    return list(read_records(io.StringIO(text, newline=""), fmt))


def test_it_reads_twcs_rows_as_tweets_with_reply_links() -> None:
    items = _read(TWCS, FileFormat.TWCS)

    reply = items[0][1]
    assert isinstance(reply, dict)
    assert reply["external_id"] == "1"
    assert reply["direction"] == "out"
    assert reply["in_reply_to"] == "2"
    assert reply["created_at"] == "2017-10-31T22:10:47+00:00"
    first = items[1][1]
    assert isinstance(first, dict)
    assert (first["direction"], first["kind"], first["in_reply_to"]) == ("in", "post", "")


def test_it_rejects_twcs_rows_with_bad_values_by_line() -> None:
    items = _read(TWCS, FileFormat.TWCS)

    rejections = [item for _, item in items if isinstance(item, Rejection)]
    assert [(r.record_number, r.reason) for r in rejections] == [
        (4, "inbound must be True or False, not 'maybe'"),
        (5, "created_at '31/10/2017' is not a Twitter date"),
    ]


def test_it_refuses_a_file_without_the_needed_columns() -> None:
    with pytest.raises(ValueError, match="lacks the column"):
        _read("id,body\n1,hello\n", FileFormat.CSV)


def test_it_reads_csv_with_optional_author_columns() -> None:
    text = (
        "id,text,created_at,author_id,author_handle,author_followers,in_reply_to\n"
        "7,Great app,2026-11-01 10:00,u9,@nina,1200,\n"
    )
    ((_, item),) = _read(text, FileFormat.CSV)

    assert isinstance(item, dict)
    assert item["author"] == {
        "external_id": "u9",
        "handle": "@nina",
        "display_name": "",
        "audience_size": "1200",
    }


def test_it_reports_bad_json_lines_and_keeps_reading() -> None:
    text = '{"id": 1, "text": "a", "created_at": "2026-11-01T00:00:00Z"}\nnot json\n[1,2]\n\n'
    items = _read(text, FileFormat.JSONL)

    assert isinstance(items[0][1], dict) and items[0][1]["external_id"] == "1"
    assert isinstance(items[1][1], Rejection) and items[1][0] == 2
    assert isinstance(items[2][1], Rejection) and items[2][1].reason == (
        "a line must hold a JSON object"
    )
    assert len(items) == 3


def test_a_row_with_too_many_fields_is_rejected() -> None:
    text = "id,text,created_at\n1,hello,2026-11-01,extra\n"
    ((_, item),) = _read(text, FileFormat.CSV)

    assert isinstance(item, Rejection) and item.reason == "more fields than columns"
