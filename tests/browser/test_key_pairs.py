"""Key pairs in the dashboard: create (the private key downloaded once), import, detail,
delete, each checked through the compute API."""

from __future__ import annotations

from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from playwright.sync_api import Page, expect

from tests.support.browser import api, shot, token
from tests.support.cloud import Cloud
from tests.support.keystone import unique


def _nova(cloud: Cloud, name: str) -> httpx.Response:
    tok = token(cloud, "demo")
    return httpx.get(
        f"{cloud.url}/compute/v2.1/os-keypairs/{name}", headers={"x-auth-token": tok}, timeout=30
    )


def test_create_downloads_the_private_key_once(
    demo_page: Page, cloud: Cloud, tmp_path: Path
) -> None:
    page, name = demo_page, unique("dash-key")
    page.goto(f"{cloud.url}/dashboard/project/key_pairs/")
    shot(page, "key_pairs")
    page.get_by_role("link", name="Create Key Pair").click()
    page.get_by_label("Key Pair Name").fill(name)
    with page.expect_download() as got:
        page.get_by_role("button", name="Create Key Pair").click()
    download = got.value
    assert download.suggested_filename == f"{name}.pem"
    pem = tmp_path / "key.pem"
    download.save_as(pem)
    private = serialization.load_pem_private_key(pem.read_bytes(), password=None)
    ours = private.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    held = _nova(cloud, name).json()["keypair"]
    assert held["public_key"].split()[:2] == ours.decode().split()[:2]
    # Listed, and its detail shows the fingerprint and the public key; the private key is
    # nowhere on the dashboard's pages.
    page.goto(f"{cloud.url}/dashboard/project/key_pairs/")
    expect(page.get_by_role("status")).to_contain_text(f'Created key pair "{name}"')
    page.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", name=f"Key Pair Details: {name}")).to_be_visible()
    expect(page.locator("dl.details")).to_contain_text(held["fingerprint"])
    assert "PRIVATE KEY" not in page.content()
    shot(page, "key_pair_detail")
    # A second key pair of the same name: Nova's refusal beside the name.
    page.goto(f"{cloud.url}/dashboard/project/key_pairs/create/")
    page.get_by_label("Key Pair Name").fill(name)
    page.get_by_role("button", name="Create Key Pair").click()
    expect(page.locator("#err_name")).to_contain_text("already exists")
    expect(page.get_by_label("Key Pair Name")).to_have_value(name)


def test_import_and_delete(demo_page: Page, cloud: Cloud) -> None:
    page, name = demo_page, unique("dash-imported")
    public = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    page.goto(f"{cloud.url}/dashboard/project/key_pairs/")
    page.get_by_role("link", name="Import Public Key").click()
    page.get_by_label("Key Pair Name").fill(name)
    page.get_by_label("Public Key").fill("ssh-rsa not-a-key")
    page.get_by_role("button", name="Import Public Key").click()
    # Nova's own words for a bad key, next to the field; nothing was made.
    expect(page.locator("#err_public_key")).to_contain_text("Keypair data is invalid")
    expect(page.get_by_label("Key Pair Name")).to_have_value(name)
    assert _nova(cloud, name).status_code == 404
    page.get_by_label("Public Key").fill(public + " me@example")
    page.get_by_role("button", name="Import Public Key").click()
    expect(page.get_by_role("heading", name=f"Key Pair Details: {name}")).to_be_visible()
    held = _nova(cloud, name).json()["keypair"]
    assert held["public_key"].split()[:2] == public.split()[:2]
    expect(page.locator("dl.details")).to_contain_text(held["fingerprint"])
    page.get_by_role("link", name="Delete Key Pair").click()
    expect(page.get_by_role("heading", name="Delete Key Pair")).to_be_visible()
    page.get_by_role("button", name="Delete Key Pair").click()
    expect(page.get_by_role("status")).to_contain_text(f'Deleted key pair "{name}"')
    assert _nova(cloud, name).status_code == 404


def test_another_users_key_pair_is_the_404_page(demo_page: Page, cloud: Cloud) -> None:
    name = unique("dash-admins-key")
    admin = token(cloud, "admin", "admin")
    public = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    api(cloud, "POST", "/compute/v2.1/os-keypairs", admin,
        json={"keypair": {"name": name, "public_key": public}})  # fmt: skip
    resp = demo_page.goto(f"{cloud.url}/dashboard/project/key_pairs/{name}/")
    assert resp is not None and resp.status == 404
    expect(demo_page.get_by_role("heading", name="Not Found")).to_be_visible()
    api(cloud, "DELETE", f"/compute/v2.1/os-keypairs/{name}", admin)
