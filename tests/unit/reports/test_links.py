"""Signed download links: honoured until they expire, for that file only."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from domain.reports.links import LinkRefusal, ReportLinks

NOW_US = 1_800_000_000_000_000


def parts(url: str) -> tuple[str, str, str]:
    split = urlsplit(url)
    query = parse_qs(split.query)
    return split.path, query["exp"][0], query["sig"][0]


def test_a_link_is_honoured_until_it_expires() -> None:
    links = ReportLinks(b"k" * 32, ttl_seconds=60)
    path, exp, sig = parts(links.signed("run1", "a b.pdf", now_us=NOW_US))
    assert path == "/reports/run1/a%20b.pdf"
    links.check("run1", "a b.pdf", exp=exp, sig=sig, now_us=NOW_US + 59_000_000)
    with pytest.raises(LinkRefusal, match="expired"):
        links.check("run1", "a b.pdf", exp=exp, sig=sig, now_us=NOW_US + 60_000_000)


@pytest.mark.parametrize(
    ("run", "name", "exp_delta", "key"),
    [("run2", "a.pdf", 0, b"k"), ("run1", "b.pdf", 0, b"k"), ("run1", "a.pdf", 1, b"k"),
     ("run1", "a.pdf", 0, b"other")],
)  # fmt: skip
def test_a_link_signs_one_file_one_expiry_with_one_key(
    run: str, name: str, exp_delta: int, key: bytes
) -> None:
    _, exp, sig = parts(ReportLinks(b"k" * 32).signed("run1", "a.pdf", now_us=NOW_US))
    with pytest.raises(LinkRefusal, match="bad signature"):
        ReportLinks(key * 32).check(
            run, name, exp=str(int(exp) + exp_delta), sig=sig, now_us=NOW_US
        )


def test_a_malformed_expiry_is_a_bad_signature() -> None:
    with pytest.raises(LinkRefusal, match="bad signature"):
        ReportLinks(b"k" * 32).check("r", "f", exp="soon", sig="x", now_us=NOW_US)


def test_a_links_signature_never_reaches_the_access_log() -> None:
    import logging

    from infra.logredact import RedactCredentials

    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/reports/r1/a.pdf?exp=1800000000&sig=0badc0de", "1.1", 200),
        None,
    )  # fmt: skip
    RedactCredentials().filter(record)
    assert record.getMessage().endswith(
        '"GET /reports/r1/a.pdf?exp=1800000000&sig=<redacted> HTTP/1.1" 200'
    )
