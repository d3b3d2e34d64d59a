"""Stacks in the dashboard: launching from a template with parameters (from a file, from a
URL), the detail's tabs, update, actions and deletion, checked through the orchestration API."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.support.browser import api, shot, token
from tests.support.cloud import Cloud
from tests.support.keystone import unique
from tests.support.webserve import serve_directory

TEMPLATE = """
heat_template_version: 2018-08-31
description: A dashboard test stack
parameters:
  greeting:
    type: string
    label: Greeting
    description: What the stack says
    default: hello
    constraints:
      - length: {min: 1, max: 20}
  secret:
    type: string
    label: Secret
    hidden: true
    default: s3cret
  flavour:
    type: string
    label: Flavour
    default: plain
    constraints:
      - allowed_values: [plain, salted]
resources:
  word:
    type: OS::Heat::RandomString
    properties:
      length: 6
  phrase:
    type: OS::Heat::Value
    properties:
      value: {list_join: ['-', [{get_param: greeting}, {get_param: flavour}]]}
  done:
    type: OS::Heat::None
    depends_on: [word, phrase]
outputs:
  said:
    description: What was said
    value: {get_attr: [phrase, value]}
"""


def project_path(cloud: Cloud, tok: str) -> str:
    found = api(cloud, "GET", "/identity/v3/auth/tokens", tok, headers={"x-subject-token": tok})
    return f"/orchestration/v1/{found['token']['project']['id']}"


def wait_status(cloud: Cloud, tok: str, path: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        stack: dict[str, Any] = api(cloud, "GET", path, tok)["stack"]
        if stack["stack_status"] == status or time.monotonic() > deadline:
            assert stack["stack_status"] == status, stack
            return stack
        time.sleep(0.3)


def test_launch_from_a_file_with_a_parameter(demo_page: Page, cloud: Cloud, tmp_path: Path) -> None:
    page = demo_page
    tok = token(cloud, "demo")
    heat = project_path(cloud, tok)
    name = unique("dash-stack").replace("-", "_")
    source = tmp_path / "stack.yaml"
    source.write_text(TEMPLATE)
    page.goto(f"{cloud.url}/dashboard/project/stacks/")
    page.get_by_role("link", name="Launch Stack").click()
    page.get_by_label("Template Source").select_option("file")
    page.get_by_label("Template File").set_input_files(str(source))
    page.get_by_role("button", name="Next").click()
    # The form is the template's parameters: labels, descriptions, hidden as a password.
    expect(page.get_by_role("heading", name="Launch Stack")).to_be_visible()
    expect(page.get_by_label("Greeting")).to_have_value("hello")
    expect(page.get_by_text("What the stack says")).to_be_visible()
    expect(page.get_by_text("Length 1 to 20.")).to_be_visible()
    expect(page.get_by_label("Secret")).to_have_attribute("type", "password")
    shot(page, "stacks-launch")
    page.get_by_label("Stack Name").fill(name)
    page.get_by_label("Greeting").fill("bonjour")
    page.get_by_label("Flavour").select_option("salted")
    page.get_by_role("button", name="Launch").click()
    expect(page.get_by_role("status")).to_contain_text(f'Launch of stack "{name}" started.')
    stack_id = page.url.rstrip("/").split("/")[-1]
    path = f"{heat}/stacks/{name}/{stack_id}"
    stack = wait_status(cloud, tok, path, "CREATE_COMPLETE")
    assert stack["parameters"]["greeting"] == "bonjour"
    # Topology: one node per resource, coloured by status once the page redraws.
    page.reload()
    graph = page.get_by_role("img", name="Stack topology: 3 resources")
    expect(graph).to_be_visible()
    for resource in ("word", "phrase", "done"):
        node = page.locator(f'g.node[data-resource="{resource}"]')
        expect(node).to_have_attribute("data-status", "CREATE_COMPLETE")
        expect(node).to_have_class(re.compile("done"))
    expect(page.locator("line.edge")).to_have_count(2)  # word and phrase, to done
    shot(page, "stacks-topology")
    tabs = page.get_by_role("navigation", name="Stack details")
    tabs.get_by_role("link", name="Overview").click()
    expect(page.get_by_role("row", name=re.compile("said"))).to_contain_text("bonjour-salted")
    tabs.get_by_role("link", name="Resources").click()
    expect(page.get_by_role("row", name=re.compile("OS::Heat::RandomString"))).to_be_visible()
    tabs.get_by_role("link", name="Events").click()
    expect(page.get_by_role("row", name=re.compile("Stack CREATE completed"))).to_be_visible()
    tabs.get_by_role("link", name="Template").click()
    expect(page.get_by_label("Template source")).to_contain_text(
        "description: A dashboard test stack"
    )
    page.goto(f"{cloud.url}/dashboard/project/stacks/?name={name}")
    expect(page.get_by_role("row", name=re.compile(name))).to_contain_text("CREATE_COMPLETE")
    shot(page, "stacks")


def launch_pasted(page: Page, cloud: Cloud, name: str, template: str = TEMPLATE) -> None:
    page.goto(f"{cloud.url}/dashboard/project/stacks/select_template/")
    page.get_by_label("Template Source").select_option("raw")
    page.get_by_label("Template Data").fill(template)
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Stack Name").fill(name)
    page.get_by_role("button", name="Launch").click()
    expect(page.get_by_role("status")).to_contain_text("started")


def test_update_actions_and_delete(demo_page: Page, cloud: Cloud) -> None:
    page = demo_page
    tok = token(cloud, "demo")
    heat = project_path(cloud, tok)
    name = unique("dash-stack")
    launch_pasted(page, cloud, name)
    stack_id = page.url.rstrip("/").split("/")[-1]
    path = f"{heat}/stacks/{name}/{stack_id}"
    wait_status(cloud, tok, path, "CREATE_COMPLETE")
    # Update: the current template comes pasted, its parameters keep their values.
    page.get_by_role("link", name="Change Stack Template").click()
    data = page.get_by_label("Template Data")
    data.fill(data.input_value().replace("A dashboard test stack", "An updated stack"))
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_label("Greeting")).to_have_value("hello")
    page.get_by_label("Greeting").fill("updated")
    page.get_by_role("button", name="Update").click()
    expect(page.get_by_role("status")).to_contain_text("Update of stack")
    stack = wait_status(cloud, tok, path, "UPDATE_COMPLETE")
    assert stack["parameters"]["greeting"] == "updated"
    assert stack["parameters"]["secret"] == "******"
    # The update's result on the page: the output made from the changed parameter.
    page.goto(f"{cloud.url}/dashboard/project/stacks/stack/{stack_id}/?tab=overview")
    expect(page.locator("#stack-status")).to_have_text("UPDATE_COMPLETE")
    expect(page.get_by_role("row", name=re.compile("said"))).to_contain_text("updated-plain")
    steps = (
        ("Suspend Stack", "SUSPEND_COMPLETE"),
        ("Resume Stack", "RESUME_COMPLETE"),
        ("Check Stack", "CHECK_COMPLETE"),
    )
    for label, status in steps:
        page.get_by_role("button", name=label).click()
        expect(page.get_by_role("status")).to_contain_text("started")
        wait_status(cloud, tok, path, status)
    page.reload()
    expect(page.locator("#stack-status")).to_have_text("CHECK_COMPLETE")
    page.get_by_role("link", name="Delete Stack").click()
    page.get_by_role("button", name="Delete Stack").click()
    expect(page.get_by_role("status")).to_contain_text(f'Deletion of stack "{name}" started.')
    deadline = time.monotonic() + 30
    while api(cloud, "GET", f"{heat}/stacks?name={name}", tok)["stacks"]:
        assert time.monotonic() < deadline
        time.sleep(0.3)


def test_an_invalid_template_shows_heats_message(demo_page: Page, cloud: Cloud) -> None:
    page = demo_page
    page.goto(f"{cloud.url}/dashboard/project/stacks/select_template/")
    page.get_by_label("Template Source").select_option("raw")
    bad = "heat_template_version: 2018-08-31\nresources:\n  x:\n    type: OS::Nope\n"
    page.get_by_label("Template Data").fill(bad)
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "The Resource Type (OS::Nope) could not be found."
    )
    expect(page.get_by_label("Template Data")).to_have_value(bad)
    # A parameter Heat refuses is shown beside its field, the values kept.
    page.get_by_label("Template Data").fill(TEMPLATE)
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Stack Name").fill(unique("dash-bad"))
    page.get_by_label("Greeting").fill("x" * 30)
    page.get_by_role("button", name="Launch").click()
    expect(page.locator(".field.invalid")).to_contain_text("greeting")
    expect(page.get_by_label("Greeting")).to_have_value("x" * 30)


def test_another_projects_stack_is_not_found(demo_page: Page, cloud: Cloud) -> None:
    admin = token(cloud, "admin", "admin")
    heat = project_path(cloud, admin)
    made = api(cloud, "POST", f"{heat}/stacks", admin,
               json={"stack_name": unique("admin-stack"), "template": TEMPLATE})  # fmt: skip
    page = demo_page
    for path in ("", "delete/"):
        page.goto(f"{cloud.url}/dashboard/project/stacks/stack/{made['stack']['id']}/{path}")
        expect(page.get_by_role("heading", name="Not Found")).to_be_visible()


def test_launch_from_a_url(demo_page: Page, cloud: Cloud, tmp_path: Path) -> None:
    """The URL source: Heat fetches the template (here from this test's server on
    127.0.0.1); a URL it cannot fetch is Heat's message, the URL kept."""
    page = demo_page
    tok = token(cloud, "demo")
    heat = project_path(cloud, tok)
    name = unique("dash-url")
    (tmp_path / "stack.yaml").write_text(TEMPLATE)
    with serve_directory(tmp_path) as base:
        page.goto(f"{cloud.url}/dashboard/project/stacks/select_template/")
        page.get_by_label("Template Source").select_option("url")
        page.get_by_label("Template URL").fill(f"{base}/missing.yaml")
        page.get_by_role("button", name="Next").click()
        expect(page.get_by_role("alert")).to_contain_text(
            f"Could not retrieve template: Failed to retrieve template from {base}/missing.yaml"
        )
        expect(page.get_by_label("Template URL")).to_have_value(f"{base}/missing.yaml")
        page.get_by_label("Template URL").fill(f"{base}/stack.yaml")
        page.get_by_role("button", name="Next").click()
        expect(page.get_by_label("Greeting")).to_have_value("hello")
        page.get_by_label("Stack Name").fill(name)
        page.get_by_label("Greeting").fill("by-url")
        page.get_by_role("button", name="Launch").click()
        expect(page.get_by_role("status")).to_contain_text(f'Launch of stack "{name}" started.')
    stack_id = page.url.rstrip("/").split("/")[-1]
    stack = wait_status(cloud, tok, f"{heat}/stacks/{name}/{stack_id}", "CREATE_COMPLETE")
    assert stack["parameters"]["greeting"] == "by-url"
    assert stack["description"] == "A dashboard test stack"


ENVIRONMENT = """
parameters:
  flavour: salted
  secret: env-secret
parameter_defaults:
  greeting: from-env
"""


def test_launch_with_an_environment_file(demo_page: Page, cloud: Cloud, tmp_path: Path) -> None:
    """The environment's parameters and parameter_defaults fill the form (as Heat's validate
    answers them) and so take effect when the form is sent unchanged."""
    page = demo_page
    tok = token(cloud, "demo")
    heat = project_path(cloud, tok)
    name = unique("dash-env")
    (tmp_path / "stack.yaml").write_text(TEMPLATE)
    (tmp_path / "env.yaml").write_text(ENVIRONMENT)
    page.goto(f"{cloud.url}/dashboard/project/stacks/select_template/")
    page.get_by_label("Template Source").select_option("file")
    page.get_by_label("Template File").set_input_files(str(tmp_path / "stack.yaml"))
    page.get_by_label("Environment Source").select_option("file")
    page.get_by_label("Environment File").set_input_files(str(tmp_path / "env.yaml"))
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_label("Greeting")).to_have_value("from-env")
    expect(page.get_by_label("Flavour")).to_have_value("salted")
    expect(page.get_by_label("Secret")).to_have_value("")  # left empty, the environment's holds
    page.get_by_label("Stack Name").fill(name)
    page.get_by_role("button", name="Launch").click()
    expect(page.get_by_role("status")).to_contain_text(f'Launch of stack "{name}" started.')
    stack_id = page.url.rstrip("/").split("/")[-1]
    stack = wait_status(cloud, tok, f"{heat}/stacks/{name}/{stack_id}", "CREATE_COMPLETE")
    assert (stack["parameters"]["greeting"], stack["parameters"]["flavour"]) == (
        "from-env", "salted",
    )  # fmt: skip
    page.goto(f"{cloud.url}/dashboard/project/stacks/stack/{stack_id}/?tab=overview")
    expect(page.get_by_role("row", name=re.compile("said"))).to_contain_text("from-env-salted")
