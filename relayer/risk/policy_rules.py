"""Payload policies as written: validated field by field, and refused when they catch everything.

:func:`validate_rules` turns the JSON of a policy (the API's body, the CLI's
file) into ``core.policies.PolicyRule``, raising ``InvalidInput`` naming the
first bad field as ``rules[i].field`` (``rules[i].values[j]`` for a list entry).
Its checks per rule, in order: a mapping with known keys only; ``name``
(``[a-z0-9][a-z0-9_.-]*``, at most 64, unique); ``kind``; ``action``; then the
kind's own fields (``mode``, ``values``, ``max_bytes``, ``pattern``, ``argv``,
``timeout_ms``, ``max_output``, ``on_error``) within ``core.policies``' bounds.

Regular expressions are compiled by the ``regex`` package, and every search
runs with a timeout (``REGEX_TIMEOUT_MS``) whose expiry is the rule's
``on_error``. Why a timeout rather than refusing nested quantifiers when written:
catastrophic backtracking also comes from overlapping alternations
(``(a|a)*b``) and adjacent quantifiers (``(x+x+)+y``), which no short syntactic
test catches; a timeout bounds every pattern. The pattern's length is bounded
too (512 characters), so compiling it is cheap.

:func:`broad_rules` is the decidable meaning of "would hold every transfer"
(``docs/supervision.md``): per field, the values an allow list lets through minus
those a deny list stops is empty; a ``size`` limit of 0 (every message has a
byte); a regular expression that matches the empty text (a pattern that matches
every text matches the empty one, so none that matches everything escapes).
Scanner verdicts cannot be decided in advance and are never called broad.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import regex

from core.errors import InvalidInput
from core.policies import (
    ACTIONS,
    ALLOW,
    DEFAULT_SCAN_OUTPUT,
    DEFAULT_SCAN_TIMEOUT_MS,
    DENY,
    HOLD,
    KINDS,
    LIST_KINDS,
    MAX_ARG_CHARS,
    MAX_ARGV,
    MAX_LIST,
    MAX_NAME_CHARS,
    MAX_PATTERN_CHARS,
    MAX_RULES,
    MAX_SCAN_OUTPUT,
    MAX_SCAN_TIMEOUT_MS,
    MAX_SIZE_BYTES,
    MAX_VALUE_CHARS,
    MODES,
    REGEX_TIMEOUT_MS,
    PolicyRule,
)

Normalize = Callable[[str, str, str], str]
"""``(kind, value, field) -> normalized value``: a route's address rules (the API passes its
chains' family rules for ``sender`` and ``receiver``); ``InvalidInput`` naming ``field``."""

NAME = re.compile(r"[a-z0-9][a-z0-9_.-]*")
MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
COMMON = {"name", "kind", "action"}
FIELDS: dict[str, set[str]] = {
    "sender": COMMON | {"mode", "values"},
    "receiver": COMMON | {"mode", "values"},
    "denom": COMMON | {"mode", "values"},
    "content_type": COMMON | {"mode", "values"},
    "keyword": COMMON | {"values"},
    "size": COMMON | {"max_bytes"},
    "regex": COMMON | {"pattern", "on_error"},
    "scanner": COMMON | {"argv", "timeout_ms", "max_output", "on_error"},
}


def validate_rules(
    raw: object,
    *,
    normalize: Normalize | None = None,
    scanners: Collection[str] | None = None,
) -> tuple[PolicyRule, ...]:
    """The rules of a policy document, checked in order; ``InvalidInput`` naming the field.

    ``scanners``: the commands a scanner rule may run (the hub's ``policy_scanners``;
    None: any absolute path, for callers that are not an API)."""
    if not isinstance(raw, list):
        raise InvalidInput("rules: a list of rules", field="rules")
    if len(raw) > MAX_RULES:
        raise InvalidInput(f"rules: at most {MAX_RULES} rules", field="rules")
    rules: list[PolicyRule] = []
    names: set[str] = set()
    for i, item in enumerate(raw):
        rule = validate_rule(item, f"rules[{i}]", normalize, scanners)
        if rule.name in names:
            raise InvalidInput(
                f"rules[{i}].name: {rule.name!r} is used twice", field=f"rules[{i}].name"
            )
        names.add(rule.name)
        rules.append(rule)
    return tuple(rules)


def validate_rule(
    item: object,
    at: str,
    normalize: Normalize | None = None,
    scanners: Collection[str] | None = None,
) -> PolicyRule:
    """One rule at ``at`` (``rules[i]``): the checks of the module docstring, in order."""
    if not isinstance(item, Mapping):
        raise InvalidInput(f"{at}: a rule is an object", field=at)
    name = _text(item.get("name"), f"{at}.name", MAX_NAME_CHARS)
    if not NAME.fullmatch(name):
        raise InvalidInput(
            f"{at}.name: lower-case letters, digits, '_', '.', '-'", field=f"{at}.name"
        )
    kind = item.get("kind")
    if kind not in KINDS:
        raise InvalidInput(f"{at}.kind: one of {', '.join(KINDS)}", field=f"{at}.kind")
    unknown = sorted(set(item) - FIELDS[str(kind)])
    if unknown:
        raise InvalidInput(
            f"{at}.{unknown[0]}: not a field of a {kind} rule", field=f"{at}.{unknown[0]}"
        )
    action = _choice(item.get("action"), ACTIONS, f"{at}.action")
    kind = str(kind)
    if kind in LIST_KINDS:
        mode = _choice(item.get("mode"), MODES, f"{at}.mode")
        values = _values(item.get("values"), kind, f"{at}.values", normalize)
        if mode == DENY and not values:
            raise InvalidInput(f"{at}.values: a deny list needs an entry", field=f"{at}.values")
        return PolicyRule(name, kind, action, mode=mode, values=values)
    if kind == "keyword":
        values = _values(item.get("values"), kind, f"{at}.values", None)
        if not values:
            raise InvalidInput(f"{at}.values: at least one keyword", field=f"{at}.values")
        return PolicyRule(name, kind, action, values=values)
    if kind == "size":
        size = _int(item.get("max_bytes"), f"{at}.max_bytes", 0, MAX_SIZE_BYTES)
        return PolicyRule(name, kind, action, max_bytes=size)
    on_error = _choice(item.get("on_error", HOLD), ACTIONS, f"{at}.on_error")
    if kind == "regex":
        pattern = _text(item.get("pattern"), f"{at}.pattern", MAX_PATTERN_CHARS, strip=False)
        compile_pattern(pattern, f"{at}.pattern")
        return PolicyRule(name, kind, action, pattern=pattern, on_error=on_error)
    argv = _argv(item.get("argv"), f"{at}.argv")
    if scanners is not None and argv[0] not in scanners:
        raise InvalidInput(
            f"{at}.argv[0]: not one of the hub's scanner commands (PJGW_POLICY_SCANNERS)",
            field=f"{at}.argv[0]",
        )
    timeout = _int(
        item.get("timeout_ms", DEFAULT_SCAN_TIMEOUT_MS), f"{at}.timeout_ms", 1, MAX_SCAN_TIMEOUT_MS
    )
    output = _int(
        item.get("max_output", DEFAULT_SCAN_OUTPUT), f"{at}.max_output", 1, MAX_SCAN_OUTPUT
    )
    return PolicyRule(
        name, kind, action, argv=argv, timeout_ms=timeout, max_output=output, on_error=on_error
    )


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> regex.Pattern[str]:
    return regex.compile(pattern)


def compile_pattern(pattern: str, field: str = "pattern") -> regex.Pattern[str]:
    """``pattern`` compiled by the ``regex`` package (cached); ``InvalidInput`` naming ``field``."""
    if not pattern or len(pattern) > MAX_PATTERN_CHARS:
        raise InvalidInput(f"{field}: 1 to {MAX_PATTERN_CHARS} characters", field=field)
    try:
        return _compiled(pattern)
    except (regex.error, OverflowError, RecursionError) as err:
        raise InvalidInput(f"{field}: not a regular expression ({err})", field=field) from None


def broad_rules(rules: Sequence[PolicyRule]) -> list[tuple[int, str]]:
    """The rules that make the policy hold every transfer (or every message) of its route:
    ``(index, why)`` in rule order; empty when none does (module docstring)."""
    found: list[tuple[int, str]] = []
    for field in LIST_KINDS:
        allows = [(i, r) for i, r in enumerate(rules) if r.kind == field and r.mode == ALLOW]
        if not allows:
            continue
        passing = set(allows[0][1].values)
        for _, rule in allows[1:]:
            passing &= set(rule.values)
        for rule in rules:
            if rule.kind == field and rule.mode == DENY:
                passing -= set(rule.values)
        if not passing:
            what = "message" if field == "content_type" else "transfer"
            found.append((allows[0][0], f"no {field} passes its allow lists: every {what} fires"))
    for i, rule in enumerate(rules):
        if rule.kind == "size" and rule.max_bytes == 0:
            found.append((i, "max_bytes 0: every message fires"))
        elif rule.kind == "regex" and _matches_empty(rule.pattern):
            found.append((i, "the pattern matches the empty text: every message fires"))
    return sorted(found)


def _matches_empty(pattern: str) -> bool:
    try:
        return compile_pattern(pattern).search("", timeout=REGEX_TIMEOUT_MS / 1000) is not None
    except TimeoutError:
        return False


def _text(value: object, field: str, limit: int, *, strip: bool = True) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{field}: a string", field=field)
    text = value.strip() if strip else value
    if not text or len(text) > limit:
        raise InvalidInput(f"{field}: 1 to {limit} characters", field=field)
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise InvalidInput(f"{field}: no control characters", field=field)
    return text


def _choice(value: object, options: Sequence[str], field: str) -> str:
    if value not in options:
        raise InvalidInput(f"{field}: one of {', '.join(options)}", field=field)
    return str(value)


def _int(value: object, field: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidInput(f"{field}: an integer in [{low}, {high}]", field=field)
    return value


def _values(value: object, kind: str, field: str, normalize: Normalize | None) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise InvalidInput(f"{field}: a list of strings", field=field)
    if len(value) > MAX_LIST:
        raise InvalidInput(f"{field}: at most {MAX_LIST} entries", field=field)
    out: dict[str, None] = {}  # ordered, without repeats
    for j, entry in enumerate(value):
        at = f"{field}[{j}]"
        text = _text(entry, at, MAX_VALUE_CHARS)
        if kind == "content_type":
            text = text.lower()
            if not MEDIA_TYPE.fullmatch(text):
                raise InvalidInput(f"{at}: a media type type/subtype", field=at)
        elif normalize is not None:
            text = normalize(kind, text, at)
        out[text] = None
    return tuple(out)


def _argv(value: object, field: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise InvalidInput(
            f"{field}: a non-empty list (the command and its arguments)", field=field
        )
    if len(value) > MAX_ARGV:
        raise InvalidInput(f"{field}: at most {MAX_ARGV} items", field=field)
    out = []
    for j, arg in enumerate(value):
        at = f"{field}[{j}]"
        if not isinstance(arg, str) or len(arg) > MAX_ARG_CHARS or "\x00" in arg:
            raise InvalidInput(f"{at}: a string of at most {MAX_ARG_CHARS} characters", field=at)
        out.append(arg)
    if not out[0].startswith("/"):
        raise InvalidInput(
            f"{field}[0]: the command's absolute path (no PATH search)", field=f"{field}[0]"
        )
    return tuple(out)


def rules_of(raw: Sequence[Mapping[str, Any]]) -> tuple[PolicyRule, ...]:
    """Rules from their stored form (validated when written)."""
    return tuple(PolicyRule.from_json(r) for r in raw)


__all__ = [
    "Normalize",
    "broad_rules",
    "compile_pattern",
    "rules_of",
    "validate_rule",
    "validate_rules",
]
