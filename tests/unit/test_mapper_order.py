"""``onestack api`` answers identity while a thread imports the other services (#19): any
request's query configures every mapper of the shared registry, at any instant of that
import. A relationship naming a class its module had not defined yet failed that
configuration (``Port`` → ``IPAllocation``: a token request's 500), and SQLAlchemy keeps
the failure, so every later query of the process failed too."""

from __future__ import annotations

import subprocess
import sys

# Configures the mappers after each class is mapped while the services import the way
# ``onestack api`` imports them (identity, then the rest): the worst interleaving of the
# import thread with a request's query.
CODE = """
from sqlalchemy import event
from sqlalchemy.orm import Mapper, configure_mappers
from onestack import app

app.load_services(app.LISTED[:1])
configure_mappers()
mapped = []

@event.listens_for(Mapper, "after_mapper_constructed")
def configure_now(mapper, cls):
    mapped.append(cls.__name__)
    configure_mappers()

app.load_services(app.LISTED[1:])
configure_mappers()
print(" ".join(mapped))
"""


def test_mappers_configure_at_every_instant_of_the_services_import() -> None:
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert {"Port", "IPAllocation", "SecurityGroup"} <= set(done.stdout.split())
