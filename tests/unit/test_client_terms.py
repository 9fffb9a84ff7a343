"""What ``GET /v1/clients?q=`` matches: the terms of a card and the words of a query, as the
README's examples say."""

from __future__ import annotations

from projections.clients.terms import like_prefix, query_words, terms_of


def matches(profile: dict, tags: list[str], q: str) -> bool:
    terms = terms_of(profile, tags)
    return all(
        any(term.startswith(way) for term in terms for way in ways) for ways in query_words(q)
    )


def test_the_terms_of_a_card() -> None:
    profile = {
        "name": "Anne-Marie Smith",
        "username": "@ann_x",
        "email": "A.B@X.org",
        "phone": "+1 (555) 0100",
        "language": "en",
    }
    terms = terms_of(profile, ["VIP client"])
    assert {"anne-marie", "anne", "marie", "smith", "@ann_x", "ann", "x"} <= terms
    assert {"a.b@x.org", "a.b", "a", "b"} <= terms
    assert {"15550100", "5550100", "0100", "0"} <= terms
    assert {"vip client", "vip", "client"} <= terms
    assert "x.org" not in terms and "en" not in terms


def test_what_a_query_finds() -> None:
    ann = {"name": "Ann"}
    assert matches(ann, [], "ANN") and matches({"name": "Anna"}, [], "ann")
    assert matches({"name": "Joanne-Ann"}, [], "ann")
    assert not matches({"name": "Joanne"}, [], "ann")
    smith = {"name": "Ann Smith", "phone": "+44 (20) 7946-0958"}
    assert matches(smith, [], "smith ann") and not matches(smith, [], "ann jones")
    assert matches(smith, [], "7946-0958") and matches(smith, [], "(20)")
    assert matches(smith, [], "+44 79460")
    assert not matches(smith, [], "7946-1")
    assert not matches({"name": "ann_x"}, [], "ann%")


def test_like_prefixes_take_wildcards_literally() -> None:
    assert like_prefix("100%_a\\b") == "100\\%\\_a\\\\b%"
    assert query_words("  ") == []
    assert query_words("+1 x") == [["+1", "1"], ["x"]]
