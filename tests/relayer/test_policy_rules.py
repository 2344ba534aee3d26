"""``broad_rules``: the decidable meaning of "a policy that would hold every transfer".

Each row is one policy; the broad ones name the rule to blame, the narrow ones (one
value passes, a deny list only, an anchored pattern, a scanner) name none.
"""

from __future__ import annotations

import pytest

from core.policies import PolicyRule
from relayer.risk.policy_rules import broad_rules


def allow(name: str, kind: str, *values: str) -> PolicyRule:
    return PolicyRule(name, kind, "hold", mode="allow", values=values)


def deny(name: str, kind: str, *values: str) -> PolicyRule:
    return PolicyRule(name, kind, "reject", mode="deny", values=values)


BROAD: dict[str, tuple[tuple[PolicyRule, ...], int, str]] = {
    "empty sender allow list": ((allow("a", "sender"),), 0, "no sender passes"),
    "two allow lists with nothing in common": (
        (deny("d", "denom", "x"), allow("a", "denom", "upj"), allow("b", "denom", "uatom")),
        1,
        "no denom passes",
    ),
    "an allow list its deny list cancels": (
        (allow("a", "receiver", "0x1", "0x2"), deny("d", "receiver", "0x2", "0x1")),
        0,
        "no receiver passes",
    ),
    "an empty content-type allow list": ((allow("a", "content_type"),), 0, "every message"),
    "a size of 0": ((PolicyRule("z", "size", "hold", max_bytes=0),), 0, "max_bytes 0"),
    "a pattern matching the empty text": (
        (
            PolicyRule("k", "keyword", "hold", values=("x",)),
            PolicyRule("r", "regex", "hold", pattern="a|"),
        ),
        1,
        "matches the empty text",
    ),
}

NARROW: dict[str, tuple[PolicyRule, ...]] = {
    "no rules": (),
    "one value passes both allow lists": (
        allow("a", "denom", "upj", "x"),
        allow("b", "denom", "upj"),
    ),
    "a deny list alone": (deny("d", "sender", "0x1"),),
    "an anchored pattern": (PolicyRule("r", "regex", "hold", pattern="^secret$"),),
    "a size of 1": (PolicyRule("s", "size", "hold", max_bytes=1),),
    "a scanner (undecidable: never called broad)": (
        PolicyRule("s", "scanner", "reject", argv=("/bin/false",)),
    ),
}


@pytest.mark.parametrize("name", list(BROAD))
def test_a_broad_policy_names_its_rule(name: str) -> None:
    rules, index, words = BROAD[name]
    ((found, why),) = broad_rules(rules)
    assert found == index
    assert words in why


@pytest.mark.parametrize("name", list(NARROW))
def test_a_narrow_policy_is_not_broad(name: str) -> None:
    assert broad_rules(NARROW[name]) == []
