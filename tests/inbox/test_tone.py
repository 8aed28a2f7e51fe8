"""The tone guard flags drafts that could start a flame war, and leaves kind ones alone."""

from __future__ import annotations

import pytest

from earful.inbox.tone import check_tone


@pytest.mark.parametrize(
    "draft",
    [
        "I'm so sorry about the delay. I've asked our team to look at your booking today.",
        "Thanks for letting us know! Could you send us your booking number by DM?",
        "We apologise for the trouble; a replacement is on its way.",
    ],
)
def test_it_passes_apologetic_and_helpful_drafts(draft: str) -> None:
    result = check_tone(draft)

    assert result.ok and result.suggestion == ""


@pytest.mark.parametrize(
    ("draft", "category"),
    [
        ("That is a stupid question, read the manual.", "hostile"),
        ("It's your own fault, you should have checked the settings.", "customer_blaming"),
        ("This is not our fault and there is nothing we can do.", "defensive"),
        ("Oh great, another complaint. Good luck with that.", "sarcastic"),
        ("We guarantee a full refund and it will never happen again.", "forbidden_promise"),
    ],
)
def test_it_flags_risky_drafts_with_reason_and_rewrite(draft: str, category: str) -> None:
    result = check_tone(draft)

    assert not result.ok
    assert category in {flag.category for flag in result.flags}
    assert all(flag.reason and flag.phrase for flag in result.flags)
    assert result.suggestion and result.suggestion != draft
    assert check_tone(result.suggestion).ok


def test_it_flags_the_organizations_own_forbidden_promises() -> None:
    result = check_tone("You'll get a free upgrade next time.", forbidden=("free upgrade",))

    assert [f.category for f in result.flags] == ["forbidden_promise"]
    assert "free upgrade" not in result.suggestion
