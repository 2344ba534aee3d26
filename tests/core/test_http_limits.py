"""``core.http_limits``: the JSON pre-scan counts structure, not the content of strings."""

from __future__ import annotations

import json

from core.http_limits import InputLimits, head_violation, json_violation

LIMITS = InputLimits(json_depth=4, json_keys=3, number_chars=5)


def test_brackets_colons_and_digits_inside_strings_are_not_structure() -> None:
    body = json.dumps({"a": "[[[[[[{{{{::::", "b": "1234567890" * 10, "c": '\\"[[[['}).encode()
    assert json_violation(body, LIMITS) is None


def test_each_bound_is_enforced_one_past_it() -> None:
    assert json_violation(b"[[[[1]]]]", LIMITS) is None
    assert "deeper than 4" in (json_violation(b"[[[[[1]]]]]", LIMITS) or "")
    assert json_violation(b'{"a":1,"b":2,"c":3}', LIMITS) is None
    assert "more than 3 keys" in (json_violation(b'{"a":1,"b":2,"c":3,"d":4}', LIMITS) or "")
    assert json_violation(b"[12345, -1e3]", LIMITS) is None
    assert "number longer" in (json_violation(b"[123456]", LIMITS) or "")


def test_route_bounds_and_head_bounds() -> None:
    limits = InputLimits(body_bytes=10, route_bodies={"POST /v1/txs": 99}, target_bytes=20)
    assert limits.body_limit("POST", "/v1/txs") == 99
    assert limits.body_limit("GET", "/v1/txs") == 10
    scope = {"raw_path": b"/v1/" + b"a" * 10, "query_string": b"q=" + b"b" * 10, "headers": []}
    error = head_violation(scope, limits)
    assert error is not None
    assert error.http_status == 414
    assert head_violation({"raw_path": b"/v1", "headers": [(b"a", b"b")] * 101}, limits) is not None
