"""The real `openstack` command line, run many times in one long-lived interpreter.

Each command goes through ``openstackclient.shell.main(argv)`` exactly as the ``openstack``
script runs it, with its own environment, stdout, stderr, exit code and client handles; only
the interpreter is reused, so a command costs ~50 ms instead of the ~1 s of importing the
client anew. The ``--wait`` polls of
the client (5 s, 2 s for deletes) are cut to 0.1 s: the fake data plane is done long before.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import IO

RUNNER = """\
import contextlib, io, json, logging, os, sys, time
_sleep = time.sleep
time.sleep = lambda seconds: _sleep(min(seconds, 0.1))
from openstackclient.common.clientmanager import ClientManager
from openstackclient.shell import main
from osc_lib.clientmanager import ClientCache
reply = sys.stdout
for line in sys.stdin:
    request = json.loads(line)
    os.environ.clear()
    os.environ.update(request["env"])
    # Each run adds its console handler to the root logger: keep only this run's.
    logging.getLogger().handlers.clear()
    # The clients a run makes are cached on the class (osc-lib's ClientCache): a new run, a
    # new login.
    for klass in ClientManager.__mro__:
        for attr in vars(klass).values():
            if isinstance(attr, ClientCache):
                attr._handle = None
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(request["argv"])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except Exception as exc:
            code = 1
            err.write(f"{type(exc).__name__}: {exc}")
    reply.write(json.dumps({"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}))
    reply.write("\\n")
    reply.flush()
"""


class OscSession:
    """One interpreter that runs `openstack` commands on demand."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.process = subprocess.Popen(
            [sys.executable, "-c", RUNNER],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        """``openstack ARGV`` with ``env`` added to the session's environment."""
        stdin: IO[str] | None = self.process.stdin
        stdout: IO[str] | None = self.process.stdout
        assert stdin is not None and stdout is not None
        stdin.write(json.dumps({"argv": argv, "env": {**self.env, **env}}) + "\n")
        stdin.flush()
        line = stdout.readline()
        assert line, f"the openstack runner exited ({self.process.poll()})"
        answer = json.loads(line)
        return subprocess.CompletedProcess(
            ["openstack", *argv], answer["code"], answer["stdout"], answer["stderr"]
        )

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
