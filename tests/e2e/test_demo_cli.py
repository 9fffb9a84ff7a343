"""`switchboard demo` against a running server's database: chats to look at, and a sign-in
for every role that works over HTTP."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.e2e.conftest import ServerProcess, Setup, position
from tests.e2e.test_audit_cli import run_cli

# What each role may read, to show the printed sign-in gives that role (and 200 is no fluke:
# every other role's answer there is 403, as tests/e2e/test_roles.py has it).
ROLE_READS = {
    "admin": "/v1/tokens",
    "supervisor": "/v1/operators",
    "operator": "/v1/dashboard?tab=mine",
    "analyst": "/v1/reports/sla",
    "auditor": "/v1/events",
    "bot": "/v1/events",
}


def parse(stdout: str) -> list[dict[str, str]]:
    """The printed sign-ins: role, and e-mail and password, or token."""
    sign_ins = []
    for line in stdout.splitlines()[1:]:
        words = line.split()
        entry = {"role": words[0]}
        if "password" in words:
            entry["email"] = words[words.index("e-mail") + 1]
            entry["password"] = words[words.index("password") + 1]
        else:
            entry["token"] = words[words.index("token") + 1]
        sign_ins.append(entry)
    return sign_ins


def test_demo_prints_a_sign_in_for_every_role_and_each_works(
    server: ServerProcess, setup: Setup, http: Callable[..., httpx.Client]
) -> None:
    result = run_cli(server, "demo", "--chats", "8")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("8 chats handed off.")
    sign_ins = parse(result.stdout)
    assert [s["role"] for s in sign_ins] == [
        "admin",
        "supervisor",
        "operator",
        "operator",
        "operator",
        "analyst",
        "auditor",
        "bot",
    ]
    assert all("token" in s for s in sign_ins if s["role"] in ("analyst", "auditor", "bot"))
    tokens, last = {}, 0
    for entry in sign_ins:
        if "password" in entry:
            answer = http().post(
                "/v1/sessions", json={"email": entry["email"], "password": entry["password"]}
            )
            assert answer.status_code == 201, answer.text
            assert answer.json()["operator"]["role"] == entry["role"]
            token = answer.json()["token"]
            last = max(last, position(answer))
        else:
            token = entry["token"]
        assert token.startswith("sb_")
        caller = http(token)
        me = caller.get("/v1/me")
        assert me.status_code == 200, me.text
        assert me.json()["role"] == entry["role"]
        assert me.json()["session"] is ("password" in entry)
        read = caller.get(ROLE_READS[entry["role"]])
        assert read.status_code == 200, (entry["role"], read.text)
        tokens.setdefault(entry["role"], token)

    # The chats are there for the staff to see; every one was routed to an operator (the
    # demo waits for the directory first), some are closed.
    rows = http(tokens["supervisor"]).get("/v1/dashboard", params={"tab": "all", "limit": 500})
    demo_rows = [row for row in rows.json()["items"] if row["external_id"].startswith("demo-")]
    assert len(demo_rows) == 8
    assert {row["status"] for row in demo_rows} <= {"assigned", "active", "closed"}
    assert any(row["status"] == "closed" for row in demo_rows)
    # Only the printed sign-ins are in force for the staff: no token of theirs besides the
    # sessions just started (the demo ended its own).
    listed = http(tokens["admin"]).get("/v1/tokens", params={"limit": 500, "min_position": last})
    listed = listed.json()["items"]
    staff_tokens = [t for t in listed if t["name"].endswith("@demo.example")]
    assert staff_tokens and all(t["kind"] == "session" for t in staff_tokens)
    assert len(staff_tokens) == sum("password" in s for s in sign_ins)
