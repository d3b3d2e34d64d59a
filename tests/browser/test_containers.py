"""Object storage in the dashboard: containers, pseudo-folders, uploads with progress,
downloads, temporary URLs, checked through the object API."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import httpx
from playwright.sync_api import Page, expect

from tests.support.browser import api, hold_uploads, shot, token
from tests.support.cloud import Cloud
from tests.support.keystone import unique


def account(cloud: Cloud, tok: str) -> str:
    """The object API path of ``tok``'s project's account."""
    found = api(cloud, "GET", "/identity/v3/auth/tokens", tok, headers={"x-subject-token": tok})
    return f"/object/v1/AUTH_{found['token']['project']['id']}"


def create_container(page: Page, cloud: Cloud, name: str, public: bool = False) -> None:
    page.goto(f"{cloud.url}/dashboard/project/containers/")
    page.get_by_role("link", name="Create Container").click()
    page.get_by_label("Container Name").fill(name)
    if public:
        page.get_by_label("Public (anyone may read and list)").check()
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name=f"Container: {name}")).to_be_visible()


def upload(page: Page, path: Path, name: str = "") -> None:
    page.get_by_label("File").set_input_files(str(path))
    if name:
        page.get_by_label("Object Name").fill(name)
    page.get_by_role("button", name="Upload File").click()
    expect(page.get_by_role("status")).to_contain_text("uploaded")


def test_upload_browse_download_and_delete(demo_page: Page, cloud: Cloud, tmp_path: Path) -> None:
    page = demo_page
    tok = token(cloud, "demo")
    acct = account(cloud, tok)
    name = unique("dash-box")
    create_container(page, cloud, name)
    # A pseudo-folder, then an object inside it whose name needs quoting.
    page.get_by_role("link", name="Create Folder").click()
    page.get_by_label("Folder Name").fill("docs and más")
    page.get_by_role("button", name="Create Folder").click()
    crumbs = page.get_by_role("navigation", name="Breadcrumb")
    expect(crumbs).to_contain_text("docs and más")
    data = bytes(range(256)) * 4096 + b"tail"  # 1 MiB and a bit, every byte value
    source = tmp_path / "report 100%.bin"
    source.write_bytes(data)
    # The upload held back in the browser a moment: its progress bar shows while it runs.
    release = hold_uploads(page, r"/dashboard/project/containers/")
    page.get_by_label("File").set_input_files(str(source))
    page.get_by_label("Object Name").fill("réport 100%.bin")
    page.get_by_role("button", name="Upload File").click()
    expect(page.get_by_role("progressbar", name="Upload progress")).to_be_visible()
    release()
    expect(page.get_by_role("status")).to_contain_text("uploaded")
    expect(page.get_by_role("link", name="réport 100%.bin", exact=True)).to_be_visible()
    shot(page, "containers-objects")
    stored = httpx.get(
        f"{cloud.url}{acct}/{name}/{quote('docs and más/réport 100%.bin')}",
        headers={"x-auth-token": tok},
        timeout=30,
    )
    assert stored.status_code == 200 and stored.content == data
    # The download is the same bytes, named after the object.
    with page.expect_download() as caught:
        page.get_by_role("link", name="Download réport 100%.bin").click()
    download = caught.value
    assert download.suggested_filename == "réport 100%.bin"
    assert Path(download.path()).read_bytes() == data
    # The breadcrumb leads back to the container's top, where the folder is listed.
    crumbs.get_by_role("link", name=name).click()
    expect(page.get_by_role("link", name="docs and más/", exact=True)).to_be_visible()
    page.get_by_role("link", name="docs and más/", exact=True).click()
    page.get_by_role("link", name="réport 100%.bin", exact=True).click()
    expect(
        page.get_by_role("heading", name="Object Details: docs and más/réport 100%.bin")
    ).to_be_visible()
    expect(page.locator("dl.details")).to_contain_text(f"{len(data)} bytes")
    page.get_by_role("link", name="Delete Object").click()
    page.get_by_role("button", name="Delete Object").click()
    expect(page.get_by_role("status")).to_contain_text("deleted")
    listing = api(cloud, "GET", f"{acct}/{quote(name)}?format=json", tok)
    assert [o["name"] for o in listing] == ["docs and más/"]


def test_containers_list_public_access_and_delete_conflict(
    demo_page: Page, cloud: Cloud, tmp_path: Path
) -> None:
    page = demo_page
    tok = token(cloud, "demo")
    acct = account(cloud, tok)
    name = unique("dash-pub")
    create_container(page, cloud, name, public=True)
    expect(page.locator("dl.details")).to_contain_text("Public")
    public_url = page.locator("#public-url").inner_text()
    assert public_url.endswith(f"{acct}/{name}")
    source = tmp_path / "hello.txt"
    source.write_bytes(b"hello, world\n")
    upload(page, source)
    # Anyone may list and read it now, without a token.
    assert httpx.get(f"{cloud.url}{acct}/{name}/hello.txt", timeout=30).content == b"hello, world\n"
    page.get_by_role("button", name="Make Private").click()
    expect(page.get_by_role("status")).to_contain_text("is now private")
    assert httpx.get(f"{cloud.url}{acct}/{name}/hello.txt", timeout=30).status_code == 401
    head = httpx.head(f"{cloud.url}{acct}/{name}", headers={"x-auth-token": tok}, timeout=30)
    assert head.headers.get("x-container-read", "") == ""
    # The list shows the container with its count; Swift refuses to delete a full one.
    page.goto(f"{cloud.url}/dashboard/project/containers/?prefix={name}")
    row = page.get_by_role("row", name=re.compile(name))
    expect(row).to_contain_text("1")
    shot(page, "containers")
    row.get_by_role("link", name=f"Delete container {name}").click()
    page.get_by_role("button", name="Delete Container").click()
    expect(page.get_by_role("alert")).to_contain_text("Unable to delete container")
    assert (
        httpx.head(
            f"{cloud.url}{acct}/{name}", headers={"x-auth-token": tok}, timeout=30
        ).status_code
        == 204
    )
    # Emptied, it goes.
    api(cloud, "DELETE", f"{acct}/{name}/hello.txt", tok)
    page.get_by_role("link", name="Delete Container").click()
    page.get_by_role("button", name="Delete Container").click()
    expect(page.get_by_role("status")).to_contain_text(f'Container "{name}" deleted.')
    assert (
        httpx.head(
            f"{cloud.url}{acct}/{name}", headers={"x-auth-token": tok}, timeout=30
        ).status_code
        == 404
    )


def test_temporary_url_downloads_without_a_token(demo_page: Page, cloud: Cloud) -> None:
    page = demo_page
    tok = token(cloud, "demo")
    acct = account(cloud, tok)
    name = unique("dash-tmp")
    api(cloud, "PUT", f"{acct}/{name}", tok)
    api(cloud, "PUT", f"{acct}/{name}/{quote('a b#c.txt')}", tok, content=b"secret bytes")
    page.goto(f"{cloud.url}/dashboard/project/containers/container/{name}/")
    page.get_by_role("link", name="a b#c.txt", exact=True).click()
    page.get_by_role("link", name="Temporary URL").click()
    page.get_by_label("Valid for (seconds)").fill("600")
    page.get_by_role("button", name="Create Temporary URL").click()
    url = page.get_by_label(re.compile("^Temporary URL")).input_value()
    assert "temp_url_sig=" in url
    shot(page, "containers-tempurl")
    resp = httpx.get(url, timeout=30)
    assert resp.status_code == 200 and resp.content == b"secret bytes"
    assert httpx.get(url.replace("temp_url_sig=", "temp_url_sig=0"), timeout=30).status_code == 401


def test_bad_names_and_other_projects(demo_page: Page, cloud: Cloud) -> None:
    page = demo_page
    page.goto(f"{cloud.url}/dashboard/project/containers/create/")
    page.get_by_label("Container Name").fill("a/b")
    page.get_by_role("button", name="Create").click()
    expect(page.locator("#err_name")).to_have_text("Container names cannot contain a slash (/).")
    expect(page.get_by_label("Container Name")).to_have_value("a/b")
    page.goto(f"{cloud.url}/dashboard/project/containers/container/{unique('nowhere')}/")
    expect(page.get_by_role("heading", name="Not Found")).to_be_visible()
