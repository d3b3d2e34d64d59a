"""The cloud starts and answers the real client."""

import http.client
import time
from urllib.parse import urlsplit

from tests.support.cloud import Cloud


def test_token_issue_with_openstackclient(cloud: Cloud) -> None:
    token = cloud.openstack("token", "issue")
    assert token["project_id"]
    assert token["user_id"]
    assert len(token["id"]) > 100


def test_an_idle_keep_alive_connection_outlives_a_client_poll_period(cloud: Cloud) -> None:
    """openstackclient's and heatclient's ``--wait`` poll every 5 s on one kept-alive
    connection: a server closing idle connections at 5 s reset them as they were reused."""
    url = urlsplit(cloud.url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    try:
        for _ in range(2):
            conn.request("GET", "/identity/v3")
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 200
            assert resp.getheader("connection", "").lower() != "close"
            time.sleep(6)
        conn.request("GET", "/identity/v3")
        assert conn.getresponse().status == 200
    finally:
        conn.close()
