"""SDK smoke test: drive a live Obera server through the Python client that
openapi-python-client generated from openapi/openapi.json.

usage: PYTHONPATH=<dir containing obera_client> python3 smoke.py http://127.0.0.1:PORT
Exits non-zero (with a message) at the first step that does not behave.
"""

import sys
import uuid

from obera_client import AuthenticatedClient, Client
from obera_client.api.auth import get_me, login, signup
from obera_client.api.users import invite_user, list_users
from obera_client.models import Department, InviteUser, LoginRequest, Problem, Session, SignupRequest, UserPage


def check(condition, message):
    if not condition:
        sys.exit(f"SDK smoke test failed: {message}")


def main(base_url: str) -> None:
    public = Client(base_url=base_url, raise_on_unexpected_status=True)
    email = f"sdk-{uuid.uuid4().hex[:12]}@example.com"
    password = "sdk smoke password"

    created = signup.sync(client=public, body=SignupRequest(company_name="SDK Smoke Ltd", full_name="Sam Smoke", email=email, password=password))
    check(isinstance(created, Session), f"signup returned {created!r}")
    customer_id = created.me.membership.customer_id

    refused = login.sync(client=public, body=LoginRequest(email=email, password="wrong password"))
    check(isinstance(refused, Problem) and refused.code.value == "invalid_credentials", f"a wrong password was not refused: {refused!r}")

    session = login.sync(client=public, body=LoginRequest(email=email, password=password))
    check(isinstance(session, Session), f"login returned {session!r}")
    client = AuthenticatedClient(base_url=base_url, token=session.access_token, raise_on_unexpected_status=True)

    me = get_me.sync(client=client)
    check(me.email == email and me.membership.company_name == "SDK Smoke Ltd", f"me is {me!r}")

    invited = invite_user.sync(customer_id=customer_id, client=client, body=InviteUser(email=f"it-{email}", full_name="Ivy IT", department=Department.IT))
    check(invited.invite_token.startswith("inv_"), f"invite returned {invited!r}")

    page = list_users.sync(customer_id=customer_id, client=client, limit=10)
    check(isinstance(page, UserPage), f"list users returned {page!r}")
    emails = sorted(u.email for u in page.items)
    check(emails == sorted([email, f"it-{email}"]), f"users are {emails}")
    print(f"SDK smoke test passed: signup, login, me, invite and list users ({len(page.items)} users) via the generated client")


if __name__ == "__main__":
    main(sys.argv[1])
