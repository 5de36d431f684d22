"""``ssj serve`` as a separate process against a started Prefect server: what an office sees after a restart.

The schedules are read back from the Prefect API after SIGTERM, SIGINT and SIGKILL; a campaign created while
serving is ticked by the next run of the tick deployment (triggered through the API, as the cron would).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import CLERK, free_port
from tests.e2e.test_serving import CODE, OTHER, api, child_runs, second_campaign

pytestmark = [pytest.mark.live, pytest.mark.slow, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]
SSJ = str(Path(sys.executable).with_name("ssj"))


def wait_for(what: str, check, timeout: float = 180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(1)
    pytest.fail(f"gave up waiting for {what}")


def deployment(name: str):
    return api(lambda c: c.read_deployment_by_name(name))


def tick_runs(state: str) -> list:
    from prefect.client.schemas.filters import (FlowFilter, FlowFilterName, FlowRunFilter, FlowRunFilterState,
                                                FlowRunFilterStateType)

    return api(lambda c: c.read_flow_runs(
        flow_filter=FlowFilter(name=FlowFilterName(any_=["ssj-tick"])),
        flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[state])))))


class Serving:
    """``ssj serve`` processes, one at a time, with the test's database, files, SMTP server and Prefect API."""

    def __init__(self, prefect_api: str, db_url: str, files: Path, log: Path):
        self.env = {**os.environ, "PREFECT_API_URL": prefect_api, "SSJ_DATABASE_URL": db_url,
                    "SSJ_FILES_DIR": str(files), "SSJ_USER": CLERK, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        self.log, self.process = log, None

    def start(self) -> None:
        """Start serving and wait for the tick it runs at start-up to complete."""
        before = len(tick_runs("COMPLETED"))
        self.process = subprocess.Popen([SSJ, "serve"], env=self.env, stdout=self.log.open("ab"),
                                        stderr=subprocess.STDOUT)
        wait_for("the start-up tick", lambda: len(tick_runs("COMPLETED")) > before or self.process.poll() is not None)
        assert self.process.poll() is None, self.log.read_text(encoding="utf-8")

    def stop(self, how=signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(how)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    """``prefect server start`` as README says (its scheduler service makes the scheduled runs): its API URL, which
    this process's Prefect client uses too."""
    import httpx
    from prefect.settings import PREFECT_API_URL, temporary_settings

    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_API_URL": f"http://127.0.0.1:{port}/api"}
    server = subprocess.Popen([str(Path(sys.executable).with_name("prefect")), "server", "start", "--host",
                               "127.0.0.1", "--port", str(port)], env=env, stdout=(home / "server.log").open("wb"),
                              stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/api"

    def healthy():
        try:
            return httpx.get(f"{url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return server.poll() is not None
    try:
        wait_for("the Prefect server", healthy, timeout=120)
        assert server.poll() is None, (home / "server.log").read_text(encoding="utf-8")
        with temporary_settings({PREFECT_API_URL: url}):
            yield url
    finally:
        server.terminate()
        server.wait(60)


@pytest.fixture
def serving(prefect_server, loaded, db_url, tmp_path, smtp_server):
    assert loaded("campaign", "create", Path(__file__).resolve().parents[2] / "examples" / f"{CODE}.toml",
                  "--now", "2019-11-26T10:00").code == 0
    served = Serving(prefect_server, db_url, tmp_path / "files", tmp_path / "serve.log")
    yield served
    served.stop(signal.SIGKILL)


def test_a_campaign_created_while_serving_is_ticked_without_a_restart(serving, loaded, tmp_path):
    serving.start()
    assert loaded("campaign", "create", second_campaign(tmp_path), "--now", "2019-11-28T09:40").code == 0
    tick = deployment("ssj-tick/期限检查")
    run = api(lambda c: c.create_flow_run_from_deployment(tick.id))  # what the next quarter hour's cron does
    finished = wait_for("the triggered tick", lambda: (r := api(lambda c: c.read_flow_run(run.id))).state.is_final()
                        and r)
    assert finished.state.is_completed(), finished.state.message
    names = {r.name.rsplit(" ", 2)[0]: r for r in child_runs(run.id)}
    assert set(names) == {f"{CODE} 期限检查", f"{OTHER} 期限检查"}
    assert OTHER in names[f"{OTHER} 期限检查"].tags and names[f"{OTHER} 期限检查"].state.is_completed()


def test_a_restart_keeps_every_schedule_active_and_the_automations_once(serving):
    from prefect.client.schemas.filters import (FlowRunFilter, FlowRunFilterDeploymentId, FlowRunFilterState,
                                                FlowRunFilterStateType)

    from flows.automations import WANTED

    serving.start()
    for name in ("ssj-tick/期限检查", "ssj-daily-report/逾期日报"):  # as an earlier version left them on its way out
        paused_id = deployment(name).id
        api(lambda c: c.pause_deployment(paused_id))
    for how in (signal.SIGTERM, signal.SIGINT, signal.SIGKILL):
        serving.stop()
        serving.start()  # a start re-activates what was paused
        serving.stop(how)
        for name, cron in (("ssj-tick/期限检查", "*/15 * * * *"), ("ssj-daily-report/逾期日报", "30 8 * * *")):
            found = deployment(name)
            assert not found.paused, (how, name)
            [schedule] = found.schedules
            assert schedule.active and schedule.schedule.cron == cron, (how, name)
            scheduled = wait_for(f"scheduled runs of {name}", lambda: api(lambda c: c.read_flow_runs(
                flow_run_filter=FlowRunFilter(deployment_id=FlowRunFilterDeploymentId(any_=[found.id]),
                                              state=FlowRunFilterState(type=FlowRunFilterStateType(
                                                  any_=["SCHEDULED"]))))), timeout=120)
            assert scheduled, (how, name)
    for wanted in WANTED:
        assert len(api(lambda c: c.read_automations_by_name(wanted.name))) == 1, wanted.name
