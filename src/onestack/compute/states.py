"""Nova's server states: ``vm_state`` (what the server is), ``task_state`` (what is being done
to it) and the ``status`` the API derives from both."""

from __future__ import annotations

ACTIVE = "active"
BUILDING = "building"
PAUSED = "paused"
SUSPENDED = "suspended"
STOPPED = "stopped"
RESIZED = "resized"
ERROR = "error"
DELETED = "deleted"
SHELVED = "shelved"
SHELVED_OFFLOADED = "shelved_offloaded"
RESCUED = "rescued"
SOFT_DELETED = "soft-delete"

# task states
SCHEDULING = "scheduling"
NETWORKING = "networking"
BLOCK_DEVICE_MAPPING = "block_device_mapping"
SPAWNING = "spawning"
POWERING_OFF = "powering-off"
POWERING_ON = "powering-on"
REBOOTING = "rebooting"
REBOOTING_HARD = "rebooting_hard"
PAUSING = "pausing"
UNPAUSING = "unpausing"
SUSPENDING = "suspending"
RESUMING = "resuming"
RESIZE_PREP = "resize_prep"
RESIZE_MIGRATING = "resize_migrating"
RESIZE_FINISH = "resize_finish"
RESIZE_REVERTING = "resize_reverting"
RESIZE_CONFIRMING = "resize_confirming"
REBUILDING = "rebuilding"
RESCUING = "rescuing"
UNRESCUING = "unrescuing"
REBUILD_SPAWNING = "rebuild_spawning"
IMAGE_SNAPSHOT = "image_snapshot"
IMAGE_BACKUP = "image_backup"
IMAGE_UPLOADING = "image_uploading"
SHELVING = "shelving"
SHELVING_OFFLOADING = "shelving_offloading"
UNSHELVING = "unshelving"
DELETING = "deleting"

_DEFAULT = "default"
_STATUS: dict[str, dict[str, str]] = {
    ACTIVE: {
        _DEFAULT: "ACTIVE",
        REBOOTING: "REBOOT",
        REBOOTING_HARD: "HARD_REBOOT",
        REBUILDING: "REBUILD",
        REBUILD_SPAWNING: "REBUILD",
        RESIZE_PREP: "RESIZE",
        RESIZE_MIGRATING: "RESIZE",
        RESIZE_FINISH: "RESIZE",
    },
    BUILDING: {_DEFAULT: "BUILD"},
    STOPPED: {
        _DEFAULT: "SHUTOFF",
        RESIZE_PREP: "RESIZE",
        RESIZE_MIGRATING: "RESIZE",
        RESIZE_FINISH: "RESIZE",
        REBUILDING: "REBUILD",
        REBUILD_SPAWNING: "REBUILD",
    },
    RESIZED: {_DEFAULT: "VERIFY_RESIZE", RESIZE_REVERTING: "REVERT_RESIZE"},
    PAUSED: {_DEFAULT: "PAUSED"},
    SUSPENDED: {_DEFAULT: "SUSPENDED"},
    RESCUED: {_DEFAULT: "RESCUE"},
    ERROR: {_DEFAULT: "ERROR", REBUILDING: "REBUILD"},
    DELETED: {_DEFAULT: "DELETED"},
    SOFT_DELETED: {_DEFAULT: "SOFT_DELETED"},
    SHELVED: {_DEFAULT: "SHELVED"},
    SHELVED_OFFLOADED: {_DEFAULT: "SHELVED_OFFLOADED"},
}

# The statuses a list can be filtered on, to the vm_states they mean (Nova's reverse map).
STATUS_TO_VM_STATES: dict[str, list[str]] = {}
for _vm, _tasks in _STATUS.items():
    for _status in set(_tasks.values()):
        STATUS_TO_VM_STATES.setdefault(_status, []).append(_vm)

PROGRESS_STATUSES = {"ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING"}


def status(vm_state: str, task_state: str | None) -> str:
    tasks = _STATUS.get(vm_state, {_DEFAULT: "UNKNOWN"})
    return tasks.get(task_state or "", tasks[_DEFAULT])
