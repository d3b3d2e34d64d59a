"""The cloud starts and answers the real client."""

from tests.support.cloud import Cloud


def test_token_issue_with_openstackclient(cloud: Cloud) -> None:
    token = cloud.openstack("token", "issue")
    assert token["project_id"]
    assert token["user_id"]
    assert len(token["id"]) > 100
