"""X-Forwarded-For is believed only from the proxies LABELWELL_TRUSTED_PROXIES names: otherwise a
client on loopback could pick a new address for every guess and never meet the login throttle."""

from __future__ import annotations

import pytest

from tests.conftest import ENGINES
from tests.helpers import launch, submit


def visitor_from(server, address: str):
    client = server.client()
    client.headers["X-Forwarded-For"] = address
    return client


def fail_logins(server, email: str, addresses: list[str]) -> list[int]:
    """One wrong password per address, then the right one from the last: the statuses."""
    statuses = []
    for address in addresses:
        with visitor_from(server, address) as visitor:
            statuses.append(submit(visitor, "/login", "/login", {"email": email, "password": "wrong"}).status_code)
    return statuses


def test_a_forged_forwarded_address_does_not_escape_the_throttle(server, make_user):
    user = make_user("annotator")
    fail_logins(server, user["email"], [f"203.0.113.{i}" for i in range(5)])
    with visitor_from(server, "198.51.100.7") as visitor:
        locked = submit(visitor, "/login", "/login", {"email": user["email"], "password": user["password"]})
    assert locked.status_code == 429  # five failures from 127.0.0.1, whatever the header said
    server.query("UPDATE lw_login_failure SET locked_until = NULL")


@pytest.mark.parametrize("engine", ENGINES)
def test_behind_a_trusted_proxy_each_client_has_its_own_count(tmp_path, database_url_factory, engine):
    token = "tok-proxy"
    srv = launch(tmp_path, database_url_factory(engine), {"LABELWELL_USER_TOKEN": token,
                                                          "LABELWELL_TRUSTED_PROXIES": "127.0.0.1"})
    try:
        with srv.client(token=token) as api:
            user = api.post("/api/users", json={"email": "p@example.com", "password": "proxy-pass-1",
                                                "role": "annotator"}).json()
        assert fail_logins(srv, user["email"], ["203.0.113.9"] * 5) == [400] * 5
        with visitor_from(srv, "203.0.113.9") as same:
            assert submit(same, "/login", "/login", {"email": user["email"], "password": "proxy-pass-1"}).status_code == 429
        # another client behind the same proxy is not locked out by the first one's guesses
        with visitor_from(srv, "198.51.100.7") as other:
            signed_in = submit(other, "/login", "/login", {"email": user["email"], "password": "proxy-pass-1"})
        assert signed_in.status_code in (302, 303)
    finally:
        srv.stop()
