"""Start-up: the service object, the notifier of alarm actions, and the evaluator loop."""

from __future__ import annotations

from onestack.alarming.evaluator import Evaluator
from onestack.alarming.facade import AlarmingAPI
from onestack.alarming.notifier import Notifier
from onestack.alarming.service import AlarmingFacade, AlarmService
from onestack.alarming.trusts import Trusts
from onestack.common.agent import Periodic
from onestack.common.runtime import Runtime
from onestack.compute.facade import COMPUTE_NOTIFICATIONS
from onestack.identity.facade import IdentityAPI
from onestack.image.facade import IMAGE_NOTIFICATIONS
from onestack.metering.facade import MeteringAPI

EVENT_TOPICS = (COMPUTE_NOTIFICATIONS, IMAGE_NOTIFICATIONS)


class EvaluatorLoop(Periodic):
    """The evaluator's periodic round."""


async def start(runtime: Runtime) -> None:
    settings = runtime.settings.alarming
    metering = runtime.service(MeteringAPI)
    svc = AlarmService(runtime.db, settings, metering)
    trusts = Trusts(f"{runtime.public_url}/identity", lambda: runtime.service(IdentityAPI))
    runtime.provide(AlarmService, svc)
    runtime.provide(AlarmingAPI, AlarmingFacade(svc, trusts))
    runtime.provide(Trusts, trusts)
    if "api" in runtime.roles:
        notifier = Notifier(trusts.token)
        evaluator = Evaluator(
            runtime.db, svc, metering, notifier, lambda: settings.evaluation_interval
        )
        for topic in EVENT_TOPICS:
            runtime.bus.subscribe(topic, evaluator.on_event)
        loop = EvaluatorLoop()
        loop.every(lambda: settings.evaluation_interval, evaluator.run_once, "alarm-evaluator")
        runtime.provide(EvaluatorLoop, loop)
        runtime.provide(Notifier, notifier)
        runtime.provide(Evaluator, evaluator)


async def stop(runtime: Runtime) -> None:
    loop = runtime.optional(EvaluatorLoop)
    if loop is not None:
        await loop.stop()
    notifier = runtime.optional(Notifier)
    if notifier is not None:
        await notifier.close()
