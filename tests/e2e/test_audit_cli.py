"""`switchboard audit`: a chat's timeline in the terminal, and a check that proves the log
was not altered."""

from __future__ import annotations

import subprocess

import psycopg

from tests.e2e.conftest import SWITCHBOARD, ServerProcess, Setup, position


def run_cli(server: ServerProcess, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SWITCHBOARD), *args],
        env=server.env(),
        cwd=server.workdir,
        capture_output=True,
        text=True,
        timeout=60,
    )


def a_full_chat(setup: Setup) -> str:
    group = setup.group()
    _, op = setup.operator(group["id"])
    bot = setup.bot()
    chat = bot.post(
        "/v1/chats",
        json={
            "external_id": "audit-1",
            "client": {"id": "c1", "name": "Ann"},
            "topic": "billing",
            "group_id": group["id"],
            "transcript": [{"author": "client", "text": "hi"}],
        },
    ).json()
    for path, body in (
        ("intercept", None),
        ("messages", {"text": "How can I help?"}),
        ("mute", {"minutes": 5}),
        ("unmute", None),
        ("close", {"reason": "solved"}),
    ):
        response = op.post(f"/v1/chats/{chat['id']}/{path}", json=body)
        assert response.status_code in (200, 201), response.text
    rated = bot.post(f"/v1/chats/{chat['id']}/rating", json={"score": 4, "comment": "ok"})
    position(rated)
    return chat["id"]


def test_audit_replay_prints_the_chat_as_a_timeline(server: ServerProcess, setup: Setup) -> None:
    chat_id = a_full_chat(setup)

    result = run_cli(server, "audit", "replay", chat_id)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    kinds = [line.split()[3] for line in lines]
    assert kinds == [
        "ChatRequested",
        "Assigned",
        "Intercepted",
        "MessagePosted",
        "MessagePosted",
        "Muted",
        "Unmuted",
        "Closed",
        "Rated",
    ]
    assert [line.split()[2] for line in lines] == [f"v{n}" for n in range(1, 10)]
    assert "client Ann, topic billing, group " in lines[0]
    assert "operator wrote: 'How can I help?'" in lines[4]
    assert lines[7].endswith("closed: solved")
    assert lines[8].endswith("rated 4/5: ok")


def test_audit_replay_of_an_unknown_chat_fails_clearly(server: ServerProcess) -> None:
    unknown = run_cli(server, "audit", "replay", "00000000-0000-0000-0000-000000000001")
    assert unknown.returncode == 1
    assert "no chat" in unknown.stderr
    garbage = run_cli(server, "audit", "replay", "not-a-uuid")
    assert garbage.returncode == 2
    assert "not a chat id" in garbage.stderr


def test_audit_verify_proves_the_log_unaltered_and_catches_a_change(
    server: ServerProcess, setup: Setup
) -> None:
    a_full_chat(setup)
    first = run_cli(server, "audit", "verify")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().endswith("ok")
    head = int(first.stdout.split("up to position ")[1].split()[0])
    digest = first.stdout.split("digest ")[1].split()[0]

    # More events later do not change the digest of the log up to the noted position.
    a_full_chat(setup)
    again = run_cli(server, "audit", "verify", "--upto", str(head), "--digest", digest)
    assert again.returncode == 0, again.stderr

    # Someone edits a stored event behind the engine's back.
    with psycopg.connect(server.database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE switchboard_events SET state = state || '\\x20'::bytea "
            "WHERE notification_id = (SELECT min(notification_id) FROM switchboard_events)"
        )
    tampered = run_cli(server, "audit", "verify", "--upto", str(head), "--digest", digest)
    assert tampered.returncode == 1
    assert "digest differs" in tampered.stderr
