"""What every service's host agent is made of: per-resource locks, bus handlers that record
their failures, periodic tasks, and the driver loader. Compute, network and the agents to come
(volume, object, metering) use these rather than their own."""

from onestack.common.agent.drivers import DriverUnavailable, LoadedDriver, load_driver
from onestack.common.agent.handlers import FaultRecorder, handler
from onestack.common.agent.locks import KeyedLocks
from onestack.common.agent.periodic import Periodic

__all__ = [
    "DriverUnavailable",
    "FaultRecorder",
    "KeyedLocks",
    "LoadedDriver",
    "Periodic",
    "handler",
    "load_driver",
]
