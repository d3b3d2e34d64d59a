"""Shapes of the per-server sub-resources that the API tests cannot reach on a cloud without
block storage, and the diagnostics built from a driver's partial answer."""

from __future__ import annotations

import uuid
from datetime import datetime

from starlette.requests import Request

from onestack.common.microversion import APIVersion
from onestack.compute import models
from onestack.compute.api import volume_attachments
from onestack.compute.api.server_subresources import _diagnostics_248, _diagnostics_legacy
from onestack.compute.service.volumes import bdm_uuid, next_device


def request(minor: int) -> Request:
    return Request({"type": "http", "state": {"api_version": APIVersion(2, minor)}})


def attachment() -> models.VolumeAttachment:
    return models.VolumeAttachment(
        id=str(uuid.uuid4()),
        instance_uuid=str(uuid.uuid4()),
        volume_id=str(uuid.uuid4()),
        device_name="/dev/vdb",
        boot_index=None,
        delete_on_termination=True,
        tag="data",
        created_at=datetime(2026, 1, 1),
    )


def test_volume_attachment_per_microversion() -> None:
    att = attachment()
    base = {"id", "serverId", "volumeId", "device"}
    assert set(volume_attachments.view(request(1), att)) == base
    assert volume_attachments.view(request(1), att)["id"] == att.volume_id
    assert set(volume_attachments.view(request(70), att)) == base | {"tag"}
    assert set(volume_attachments.view(request(79), att)) == base | {
        "tag",
        "delete_on_termination",
    }
    at_89 = volume_attachments.view(request(89), att)
    assert set(at_89) == (base - {"id"}) | {
        "tag",
        "delete_on_termination",
        "attachment_id",
        "bdm_uuid",
    }
    assert at_89["attachment_id"] == att.id
    assert at_89["bdm_uuid"] == bdm_uuid(att.id) != att.id
    # The attach response keeps ``id`` whatever the version.
    assert "id" in volume_attachments.view(request(89), att, detail=False)


def test_next_device_skips_used_names() -> None:
    assert next_device([]) == "/dev/vdb"
    assert next_device(["/dev/vda", "/dev/vdb", "/dev/vdd"]) == "/dev/vdc"


def test_diagnostics_fill_what_the_driver_left_out() -> None:
    diag = _diagnostics_248({"state": "running", "driver": "fake", "pid": 42}, False)
    assert diag["driver"] == "libvirt"
    assert diag["state"] == "running"
    assert diag["memory_details"] == {"maximum": None, "used": None}
    assert diag["num_cpus"] == 0 and diag["cpu_details"] == []
    assert "pid" not in diag
    full = _diagnostics_248(
        {
            "state": "weird",
            "cpu_details": [{"id": 0, "time": 5, "utilisation": None}],
            "nic_details": [{"mac_address": "fa:16:3e:00:00:01", "rx_octets": 7}],
            "disk_details": [{"read_bytes": 9}],
            "memory_details": {"maximum": 512, "used": 100},
        },
        True,
    )
    assert full["state"] == "pending"
    assert (full["num_cpus"], full["num_nics"], full["num_disks"]) == (1, 1, 1)
    assert full["nic_details"][0]["tx_octets"] is None
    legacy = _diagnostics_legacy(full)
    assert legacy["cpu0_time"] == 5
    assert legacy["vnet0_rx"] == 7
    assert legacy["vda_read"] == 9
    assert legacy["memory"] == 512
