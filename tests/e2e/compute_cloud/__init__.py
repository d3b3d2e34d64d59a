"""Compute end to end through the real cloud: `openstack server create` boots the test image as
a QEMU virtual machine on the Linux bridge data plane, and the guest shows what it got.

The cloud runs as root with the qemu and linuxbridge drivers, a device prefix of its own and an
instances directory in the test's temporary directory. Project demo builds a network with a
router to `public`, imports a key and boots vm1 (metadata service) and vm2 (config drive); the
console proves DHCP, hostname, key and user data; a floating IP reaches the guest's web page;
power actions, resize, a snapshot that boots, and a kill -9 of the whole cloud while guests run
are lived through; deleting leaves no process, file or port. Metering polls the guests every
second: a guest made to burn CPU over SSH shows its vCPU time grow in `openstack metric` and a
CPU alarm calls a webhook. Orchestration (#17) runs on the same cloud: a Heat stack builds a
whole application (network, router, security group, two guests, floating IP, volume, container)
and deletes it without a trace, and an autoscaling group grows by a real guest on its CPU alarm
and shrinks back.

One cloud serves the package's modules (by topic: guests, metering, direct kernel boot,
orchestration); the tests run in any order and each alone: the cloud and the project's network,
router, security group and key are made once for the package (``lab`` and ``world`` in
``conftest.py``, the pieces in ``lab.py``), vm1 and vm2 are booted by fixtures the first time a
test asks for one (their first boot's console kept for the tests that check it) and put back to
ACTIVE before each test that uses them; a test that kills or deletes a guest boots its own.
Tearing the package down deletes every guest through the API and asserts the data plane keeps
nothing of its device prefix.
"""
