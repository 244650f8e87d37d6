"""Many writers at once: nobody sees 'database is locked', nothing is lost (SQLite: WAL + IMMEDIATE)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor


def test_concurrent_writers_all_succeed(server):
    tag = uuid.uuid4().hex[:6]

    def create_then_edit(i: int) -> tuple[int, int]:
        with server.client(token=server.admin_token) as client:
            created = client.post("/api/projects", json={"title": f"Load {tag} {i}"})
            if created.status_code != 201:
                return created.status_code, 0
            edited = client.patch(f"/api/projects/{created.json()['id']}", json={"description": f"edit {i}"})
            return created.status_code, edited.status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(create_then_edit, range(48)))
    assert outcomes == [(201, 200)] * 48, [o for o in outcomes if o != (201, 200)]
    with server.client(token=server.admin_token) as client:
        mine = [p for p in client.get("/api/projects?page_size=1000").json()["results"] if tag in p["title"]]
    assert len(mine) == 48
    assert sorted(p["description"] for p in mine) == sorted(f"edit {i}" for i in range(48))
    assert "locked" not in server.log()


def test_concurrent_logins_all_succeed(server, make_user):
    users = [make_user() for _ in range(6)]

    def log_in(user: dict) -> int:
        from tests.helpers import submit

        with server.client() as client:
            return submit(client, "/login", "/login", {"email": user["email"], "password": user["password"]}).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(log_in, users)) == [302] * 6
