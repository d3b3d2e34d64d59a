"""Signing in and out, sessions, CSRF and the headers every page carries, in Chromium."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from tests.support.browser import active, api, server, shot, sign_in, token
from tests.support.cloud import Cloud
from tests.support.keystone import unique


def test_sign_in_shows_the_overview_and_sign_out_ends_the_session(page: Page, cloud: Cloud) -> None:
    page.goto(f"{cloud.url}/dashboard/")
    expect(page).to_have_title(re.compile("Log in"))
    shot(page, "login")
    sign_in(page, cloud, "demo")
    expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible()
    expect(page.locator(".topbar")).to_contain_text("demo")
    # The quota charts: one per limit, each naming what it measures.
    expect(page.get_by_role("img", name=re.compile(r"^Instances: \d+ of \d+"))).to_be_visible()
    expect(page.get_by_role("img", name=re.compile(r"^Volumes: "))).to_be_visible()
    expect(page.get_by_role("img", name=re.compile(r"^Floating IPs: "))).to_be_visible()
    shot(page, "overview")
    page.get_by_role("link", name="Sign Out").click()
    expect(page.get_by_label("User Name")).to_be_visible()
    page.goto(f"{cloud.url}/dashboard/project/instances/")
    expect(page).to_have_url(re.compile(r"/dashboard/auth/login/\?next="))


def test_a_wrong_password_is_an_error_message_not_a_trace(page: Page, cloud: Cloud) -> None:
    page.goto(f"{cloud.url}/dashboard/auth/login/")
    page.get_by_label("User Name").fill("demo")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("alert")).to_have_text("Invalid credentials.")
    assert "Traceback" not in page.content()
    expect(page.get_by_label("User Name")).to_have_value("demo")


def test_a_damaged_session_cookie_means_signing_in_again(page: Page, cloud: Cloud) -> None:
    sign_in(page, cloud, "demo")
    page.context.add_cookies(
        [
            {
                "name": "onestack_session",
                "value": "gAAAAforged",
                "domain": "127.0.0.1",
                "path": "/dashboard",
            }
        ]
    )
    page.goto(f"{cloud.url}/dashboard/project/instances/")
    expect(page.get_by_text("Your session has expired. Please sign in again.")).to_be_visible()
    # After signing in again the user lands where they were going.
    page.get_by_label("User Name").fill("demo")
    page.get_by_label("Password").fill(cloud.secrets["demo_password"])
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(re.compile(r"/dashboard/project/instances/$"))


def test_a_revoked_token_ends_the_session(page: Page, cloud: Cloud) -> None:
    admin = token(cloud, "admin", "admin")
    name, password = unique("dash-user"), "secret-Pa55"
    projects = api(cloud, "GET", "/identity/v3/projects?name=demo", admin)["projects"]
    user = api(
        cloud, "POST", "/identity/v3/users", admin,
        json={"user": {"name": name, "password": password,
                       "default_project_id": projects[0]["id"]}},
    )["user"]  # fmt: skip
    roles = api(cloud, "GET", "/identity/v3/roles?name=member", admin)["roles"]
    path = f"/identity/v3/projects/{projects[0]['id']}/users/{user['id']}/roles/{roles[0]['id']}"
    api(cloud, "PUT", path, admin)
    sign_in(page, cloud, name, password)
    cookie = next(c for c in page.context.cookies() if c["name"] == "onestack_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    # Disabling the user revokes their tokens: the dashboard's session ends with its token.
    api(cloud, "PATCH", f"/identity/v3/users/{user['id']}", admin,
        json={"user": {"enabled": False}})  # fmt: skip
    page.goto(f"{cloud.url}/dashboard/project/instances/")
    expect(page.get_by_text("Your session has expired. Please sign in again.")).to_be_visible()


def test_forms_without_the_csrf_token_are_refused(cloud: Cloud) -> None:
    with httpx.Client(
        base_url=f"{cloud.url}/dashboard", follow_redirects=False, timeout=30
    ) as client:
        page = client.get("/auth/login/")
        assert 'name="csrfmiddlewaretoken"' in page.text
        assert "id_username" in page.text and 'name="region"' in page.text
        resp = client.post(
            "/auth/login/",
            data={"username": "demo", "password": cloud.secrets["demo_password"]},
        )
        assert resp.status_code == 403
        assert "onestack_session" not in resp.cookies
        forged = client.post(
            "/auth/login/",
            data={
                "username": "demo",
                "password": cloud.secrets["demo_password"],
                "csrfmiddlewaretoken": "x" * 43,
            },
        )
        assert forged.status_code == 403


def test_every_answer_carries_the_security_headers(cloud: Cloud) -> None:
    for path in ("/dashboard/auth/login/", "/dashboard/static/dashboard.css", "/dashboard/nope"):
        resp = httpx.get(f"{cloud.url}{path}", timeout=30)
        csp = resp.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert resp.headers["x-frame-options"] == "DENY"
        assert resp.headers["x-content-type-options"] == "nosniff"
    assert httpx.get(f"{cloud.url}/dashboard/nope", timeout=30).status_code == 404


def test_sign_in_never_redirects_off_the_dashboard(page: Page, cloud: Cloud) -> None:
    page.goto(f"{cloud.url}/dashboard/auth/login/?next=https://example.com/")
    page.get_by_label("User Name").fill("demo")
    page.get_by_label("Password").fill(cloud.secrets["demo_password"])
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(re.compile(r"/dashboard/project/$"))


def test_switching_project(page: Page, cloud: Cloud) -> None:
    admin = token(cloud, "admin", "admin")
    name = unique("dash-proj")
    project = api(cloud, "POST", "/identity/v3/projects", admin, json={"project": {"name": name}})
    users = api(cloud, "GET", "/identity/v3/users?name=demo", admin)["users"]
    roles = api(cloud, "GET", "/identity/v3/roles?name=member", admin)["roles"]
    pid, uid, rid = project["project"]["id"], users[0]["id"], roles[0]["id"]
    api(cloud, "PUT", f"/identity/v3/projects/{pid}/users/{uid}/roles/{rid}", admin)
    sign_in(page, cloud, "demo")
    page.get_by_role("link", name=re.compile("Project:")).click()
    page.get_by_role("button", name=f"Switch to {name}").click()
    expect(page.get_by_role("status")).to_contain_text(f'Switched to project "{name}"')
    expect(page.locator(".topbar")).to_contain_text(name)
    page.goto(f"{cloud.url}/dashboard/auth/projects/")
    expect(page.get_by_role("row", name=re.compile(name))).to_contain_text("Current project")


def test_a_server_named_as_script_renders_as_text(page: Page, cloud: Cloud) -> None:
    tok = token(cloud, "demo")
    evil = "<script>alert(1)</script>"
    created = {"server": server(cloud, tok, evil)}
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, cloud, "demo")
    page.goto(f"{cloud.url}/dashboard/project/instances/")
    expect(page.get_by_role("link", name=evil)).to_be_visible()
    page.goto(f"{cloud.url}/dashboard/project/instances/{created['server']['id']}/")
    expect(page.get_by_role("heading", name=f"Instance Details: {evil}")).to_be_visible()
    assert dialogs == []
    for script in page.locator("script").all():
        assert script.get_attribute("src"), "an inline script"
    api(cloud, "DELETE", f"/compute/v2.1/servers/{created['server']['id']}", tok)


def test_pages_read_on_a_narrow_screen(page: Page, cloud: Cloud) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, cloud, "demo")
    expect(page.get_by_role("navigation", name="Dashboard")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width}px)"
    shot(page, "overview-narrow")


def test_switching_region(page: Page, cloud: Cloud) -> None:
    admin = token(cloud, "admin", "admin")
    region = unique("Region")
    api(cloud, "POST", "/identity/v3/regions", admin, json={"region": {"id": region}})
    try:
        sign_in(page, cloud, "demo")
        page.get_by_role("link", name=re.compile("Region:")).click()
        page.get_by_role("button", name=f"Switch to {region}").click()
        expect(page.locator(".topbar")).to_contain_text(f"Region: {region}")
        # The new region has no endpoints: the pages say so instead of failing.
        page.goto(f"{cloud.url}/dashboard/project/instances/")
        expect(page.get_by_text(f"The cloud offers no compute service in region {region}."))
        page.goto(f"{cloud.url}/dashboard/auth/regions/")
        page.get_by_role("button", name="Switch to RegionOne").click()
        expect(page.locator(".topbar")).to_contain_text("Region: RegionOne")
        page.goto(f"{cloud.url}/dashboard/project/instances/")
        expect(page.get_by_role("heading", name="Instances")).to_be_visible()
    finally:
        api(cloud, "DELETE", f"/identity/v3/regions/{region}", admin)


def test_cookies_are_secure_behind_a_tls_proxy(cloud: Cloud) -> None:
    """onestack has no TLS listener of its own: TLS ends at a proxy on the host, which says so
    with X-Forwarded-Proto (trusted from 127.0.0.1, uvicorn's default)."""
    tls = {"x-forwarded-proto": "https"}
    with httpx.Client(base_url=f"{cloud.url}/dashboard", timeout=30) as client:
        login = client.get("/auth/login/", headers=tls)
        assert "secure" in login.headers["set-cookie"].lower()
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text)
        assert csrf is not None
        form = {"username": "demo", "password": cloud.secrets["demo_password"],
                "csrfmiddlewaretoken": csrf.group(1)}  # fmt: skip
        # httpx keeps a Secure cookie from going back over plain HTTP, as a browser would:
        # the test speaks plain HTTP in the proxy's place, so it sends the cookie itself.
        csrf_cookie = f"csrftoken={login.cookies['csrftoken']}"
        signed = client.post("/auth/login/", data=form, headers={**tls, "cookie": csrf_cookie})
        assert signed.status_code == 303
        session = [c for c in signed.headers.get_list("set-cookie") if "onestack_session" in c]
        assert session and all(
            {"secure", "httponly", "samesite=lax"} <= {p.strip().lower() for p in c.split(";")}
            for c in session
        ), session
    # Over plain HTTP the cookies are not marked Secure (the browser would drop them).
    plain = httpx.get(f"{cloud.url}/dashboard/auth/login/", timeout=30)
    assert "secure" not in plain.headers["set-cookie"].lower()


def test_the_overview_usage_over_a_chosen_period(page: Page, cloud: Cloud) -> None:
    tok = token(cloud, "demo")
    made = active(cloud, tok, server(cloud, tok, unique("dash-period"))["id"])
    sign_in(page, cloud, "demo")
    usage = page.locator("dl.usage")
    # This month (the default period) has the instance just made.
    expect(usage.locator("dt:has-text('Active Instances') + dd")).not_to_have_text("0")
    page.get_by_label("From", exact=True).fill("2020-01-01")
    page.get_by_label("To", exact=True).fill("2020-01-31")
    page.get_by_role("button", name="Submit").click()
    expect(page).to_have_url(re.compile(r"start=2020-01-01&end=2020-01-31"))
    expect(page.get_by_role("cell", name="No instances in this period.")).to_be_visible()
    expect(usage.locator("dt:has-text('Active Instances') + dd")).to_have_text("0")
    expect(page.get_by_label("From", exact=True)).to_have_value("2020-01-01")
    api(cloud, "DELETE", f"/compute/v2.1/servers/{made['id']}", tok)
