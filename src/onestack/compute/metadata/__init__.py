"""Nova's metadata service and config-drive content for the compute service.

``source`` holds the plain values an instance's metadata is made of and the lookup seam the
compute service implements; ``content`` builds Nova's documents from them (also the config
drive's files); ``api`` serves them to the network agent's metadata proxy.
"""

from onestack.compute.metadata.api import build_metadata_app
from onestack.compute.metadata.content import config_drive_files
from onestack.compute.metadata.source import (
    DeviceInfo,
    FixedIPInfo,
    HostRoute,
    InjectedFile,
    InstanceMetadata,
    KeyInfo,
    MetadataLookup,
    PasswordStore,
    PortInfo,
    SubnetInfo,
)

__all__ = [
    "DeviceInfo",
    "FixedIPInfo",
    "HostRoute",
    "InjectedFile",
    "InstanceMetadata",
    "KeyInfo",
    "MetadataLookup",
    "PasswordStore",
    "PortInfo",
    "SubnetInfo",
    "build_metadata_app",
    "config_drive_files",
]
