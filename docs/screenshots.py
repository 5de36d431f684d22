"""README's dashboard pictures, taken from a real run so that they stay true.

``python -m docs.screenshots`` (``make screenshots``) starts a Prefect server of its own (a free loopback
port, a temporary ``PREFECT_HOME``), runs ``ssj demo`` against it (the seed campaign on a simulated clock,
moved by the production flows), registers the deployments on a work pool that no worker serves (so the
deployments and automations pages are not empty and nothing else runs), then takes the board's pages
with Debian's headless Chromium, driven by Playwright (whose own browser builds are never downloaded),
into ``docs/dashboard-*.png``. The pictures replace the old ones only when every page was taken; every
process it started is stopped at the end, on failure too.

The artifacts shown are those of the tick with the most overdue work (an office's busiest morning), not
the last one: by the demo's end the campaign is published and nothing is late any more.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

DOCS = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
CODE = "luquan-2019-h2"  # the demo's campaign
POOL = "ssj-screenshots"
VIEWPORT = {"width": 1440, "height": 900}
MAX_HEIGHT = 2600  # a long page is cut here: README shows the top of it
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--lang=zh-CN"]
INSTALL_HINT = "apt-get install chromium fonts-noto-cjk"


class Failure(Exception):
    """Why the pictures could not be taken, in Chinese; nothing in docs/ was changed."""


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- what this machine needs -------------------------------------------------------------------------------

def chromium_path() -> str:
    path = os.environ.get("SSJ_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path or not os.access(path, os.X_OK):
        raise Failure(f"未找到 Chromium 浏览器：请先安装（{INSTALL_HINT}），或用环境变量 SSJ_CHROMIUM 指定其路径。")
    return path


def check_chinese_fonts() -> None:
    """Without a CJK font Chromium draws every Chinese character as a box."""
    if not shutil.which("fc-list"):
        return
    found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout.strip()
    if not found:
        raise Failure(f"未找到中文字体，截图里的中文会显示为方框：请先安装（{INSTALL_HINT}）。")


def check_playwright() -> None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        raise Failure("缺少 Python 包 playwright：请运行 make screenshots，或 .venv/bin/pip install -e '.[screenshots]'"
                      "（只安装 Python 包；浏览器用系统的 Chromium，不另行下载）。") from None


# --- processes we start, and stop whatever happens ----------------------------------------------------------

class Processes:
    """Every process started here, each in a session of its own, so its whole group can be stopped."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen] = []

    def start(self, args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
        with open(log, "ab") as sink:
            proc = subprocess.Popen(args, env=env, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
        self.started.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen) -> None:
        for sig, grace in ((signal.SIGTERM, 20), (signal.SIGKILL, 5)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                proc.wait(grace)
                break
            except subprocess.TimeoutExpired:
                continue
        try:  # children left behind by a leader that already exited
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def stop_all(self) -> None:
        while self.started:
            self.stop(self.started.pop())


def run(args: list[str], env: dict[str, str], log: Path, what: str, processes: Processes, timeout: float) -> None:
    """A command to its end; a Failure naming ``what`` with the end of its output if it does not succeed."""
    proc = processes.start(args, env, log)
    try:
        code = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        processes.stop(proc)
        raise Failure(f"{what}超过 {timeout:.0f} 秒仍未结束，已停止。输出见 {log}") from None
    processes.started.remove(proc)
    if code != 0:
        tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:])
        raise Failure(f"{what}失败（退出码 {code}），输出见 {log}，最后几行：\n{tail}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the Prefect API ---------------------------------------------------------------------------------------

def api(base: str, path: str, body: dict | None = None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{base}/api{path}", data=data, method="GET" if body is None else "POST",
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def wait_for_server(base: str, proc: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise Failure(f"Prefect 服务启动失败（退出码 {proc.returncode}），输出见 {log}")
        try:
            if api(base, "/health") is True:
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
            pass
        time.sleep(1)
    raise Failure(f"Prefect 服务 {timeout:.0f} 秒内没有就绪，输出见 {log}")


def all_artifacts(base: str) -> list[dict]:
    found, offset = [], 0
    while True:
        page = api(base, "/artifacts/filter", {"sort": "CREATED_DESC", "limit": 200, "offset": offset})
        found += page
        if len(page) < 200:
            return found
        offset += 200


def rows(artifact: dict) -> int:
    data = artifact.get("data")
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            return 0
    if isinstance(data, dict):
        data = data.get("rows", [])
    return len(data) if isinstance(data, list) else 0


@dataclass
class Moment:
    """The tick whose cards are shown: its flow run and its artifacts by kind."""

    flow_run: dict
    cards: dict[str, dict]  # summary, overdue, progress-table, progress-bar, daily-report → artifact

    @property
    def simulated_now(self) -> datetime | None:
        now = (self.flow_run.get("parameters") or {}).get("now")
        try:
            return datetime.fromisoformat(now) if now else None
        except ValueError:
            return None


def card_kind(artifact: dict) -> str | None:
    key = artifact.get("key") or ""
    if not key.startswith(CODE):
        return None
    if artifact.get("type") == "progress":
        return "progress-bar"
    if key.endswith("-summary"):
        return "summary"
    if "overdue" in key and "daily" not in key and "report" not in key:
        return "overdue"
    if "progress" in key:
        return "progress-table"
    if key.endswith("-daily-report"):  # the counts card (its "-daily-report-file" sibling is only the link)
        return "daily-report"
    return None


def busiest_tick(base: str) -> Moment:
    """The tick whose overdue card has the most rows (the latest of equals): where an office has most to chase."""
    by_run: dict[str, dict[str, dict]] = {}
    reports = []
    for artifact in all_artifacts(base):  # newest first
        kind = card_kind(artifact)
        if kind == "daily-report":
            reports.append(artifact)
        elif kind and artifact.get("flow_run_id"):
            by_run.setdefault(artifact["flow_run_id"], {}).setdefault(kind, artifact)
    ticks = [(run_id, cards) for run_id, cards in by_run.items() if "summary" in cards]
    if not ticks:
        raise Failure(f"演示运行后，Prefect 上没有抽查任务 {CODE} 的看板（摘要）产物，无法截图。")
    run_id, cards = max(ticks, key=lambda t: rows(t[1]["overdue"]) if "overdue" in t[1] else 0)
    shown = cards["summary"]["created"]
    daily = next((a for a in reports if a["created"] <= shown), None)  # the report that morning, as the office had it
    if daily:
        cards = {**cards, "daily-report": daily}
    return Moment(api(base, f"/flow_runs/{run_id}"), cards)


def last_event_time(base: str) -> datetime:
    found = api(base, "/events/filter", {"filter": {"occurred": {"since": "2000-01-01T00:00:00Z"},
                                                     "event": {"prefix": ["ssj."]}}, "limit": 1})
    events = found.get("events") or []
    if not events:
        return datetime.now(timezone.utc)
    return datetime.fromisoformat(events[0]["occurred"].replace("Z", "+00:00"))


# --- the pages --------------------------------------------------------------------------------------------

@dataclass
class Page:
    file: str
    path: str
    what: str  # Chinese, for the progress message and the report
    expect: str | None = None  # a text that shows the page has rendered its data
    full: bool = False
    tab: str | None = None  # the page's tab to open first (Prefect keeps it out of the address)
    max_height: int = MAX_HEIGHT


def utc(instant: datetime) -> str:
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def board_pages(base: str, moment: Moment) -> list[Page]:
    cards, run = moment.cards, moment.flow_run
    until = (moment.simulated_now or last_event_time(base)) + timedelta(minutes=1)
    pages = [
        Page("dashboard-home.png", "/dashboard", "首页（各流程运行概况）", None),
        Page("dashboard-runs.png", "/runs", "流程运行列表", None, full=True, max_height=1500),
        Page("dashboard-run-log.png", f"/runs/flow-run/{run['id']}", f"一次期限检查的运行页面与日志（{run['name']}）",
             run["name"], full=True),
        Page("dashboard-artifacts.png", "/artifacts", "看板卡片列表（各产物的最新版本）", None),
        Page("dashboard-summary.png", f"/artifacts/artifact/{cards['summary']['id']}", "抽查任务概况（摘要卡片）",
             None, full=True),
    ]
    for kind, file, what in (("overdue", "dashboard-overdue.png", "逾期事项表"),
                             ("progress-table", "dashboard-progress.png", "各部门进度表"),
                             ("progress-bar", "dashboard-progress-bar.png", "进度条"),
                             ("daily-report", "dashboard-daily-report.png", "逾期日报卡片")):
        if kind in cards:
            pages.append(Page(file, f"/artifacts/artifact/{cards[kind]['id']}", what, None, full=True))
    since = until - timedelta(days=2)
    pages.append(Page("dashboard-events.png",
                      f"/events?type=range&startDate={utc(since)}&endDate={utc(until)}&events=ssj.*",
                      f"事件流（本产品的事件，{since.astimezone(timezone(timedelta(hours=8))):%m-%d %H:%M} 起两天，北京时间）",
                      "ssj.", full=True, max_height=1800))
    return pages


REGISTERED_PAGES = [Page("dashboard-deployments.png", "/deployments", "部署列表"),
                    Page("dashboard-automations.png", "/automations", "自动化列表")]


TALLEST = "Math.ceil(Math.max(...Array.from(document.querySelectorAll('body *'), e => e.getBoundingClientRect().top + e.scrollHeight)))"


class Camera:
    """Headless Chromium through Playwright: one page per picture, each in a fresh context."""

    def __init__(self, chromium: str, base: str, out: Path):
        from playwright.sync_api import sync_playwright

        self.base, self.out = base, out
        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(executable_path=chromium, headless=True,
                                                         args=CHROMIUM_FLAGS, chromium_sandbox=False)

    def take(self, page: Page) -> Path:
        from playwright.sync_api import Error as PlaywrightError

        context = self._browser.new_context(viewport=VIEWPORT, device_scale_factor=1, locale="zh-CN",
                                            timezone_id="Asia/Shanghai")
        try:
            tab = context.new_page()
            tab.goto(self.base + page.path, wait_until="networkidle", timeout=60_000)
            if page.expect:
                try:
                    tab.get_by_text(page.expect).first.wait_for(timeout=20_000)
                except PlaywrightError:
                    say(f"   注意：{page.what}页面 20 秒内没有出现“{page.expect}”，照原样截图")
            if page.tab:
                tab.get_by_role("tab", name=page.tab).or_(tab.get_by_text(page.tab, exact=True)).first.click()
            try:
                tab.wait_for_load_state("networkidle", timeout=15_000)
            except PlaywrightError:
                pass
            tab.wait_for_timeout(1500)  # charts and markdown finish drawing
            target = self.out / page.file
            if page.full:  # the UI scrolls inside its own panes: grow the window to the tallest pane's content
                for _ in range(2):
                    height = min(page.max_height, max(VIEWPORT["height"], tab.evaluate(TALLEST)))
                    tab.set_viewport_size({"width": VIEWPORT["width"], "height": height})
                    tab.wait_for_timeout(700)
            tab.screenshot(path=str(target))
            return target
        finally:
            context.close()

    def close(self) -> None:
        self._browser.close()
        self._playwright.stop()


# --- the whole run ----------------------------------------------------------------------------------------

def retention_days() -> int:
    """The demo's events happened in late 2019: keep them, with a year's margin, or the server trims them."""
    return (date.today() - date(2019, 11, 1)).days + 365


def preflight() -> str:
    """What this machine must have, checked before anything is started; the Chromium to use."""
    chromium = chromium_path()
    check_chinese_fonts()
    check_playwright()
    for tool in ("prefect", "ssj"):
        if not (BIN / tool).exists():
            raise Failure(f"未找到 {BIN / tool}：请在项目的虚拟环境中运行（make screenshots）。")
    return chromium


def take_screenshots(chromium: str, out: Path, work: Path) -> list[tuple[Page, Path]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SSJ_"))}
    env.update({"PREFECT_HOME": str(work / "prefect-home"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_SERVER_EVENTS_RETENTION_PERIOD": f"{retention_days()}d",
                "PREFECT_UI_API_URL": f"{base}/api", "PREFECT_API_URL": f"{base}/api",
                "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false"})
    demo_out = work / "demo-out"
    shots = work / "png"
    shots.mkdir(parents=True, exist_ok=True)
    processes = Processes()
    previous_term = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    camera = None
    try:
        say(f"1/5 启动 Prefect 服务：{base}（临时目录 {work}）……")
        server_log = work / "prefect-server.log"
        server = processes.start([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                 env, server_log)
        wait_for_server(base, server, server_log)

        say(f"2/5 运行演示 ssj demo：鹿泉区抽查在模拟时钟上从抽取到公示，约 1–2 分钟（输出见 {work / 'demo.log'}）……")
        run([str(BIN / "ssj"), "demo", "--out", str(demo_out)], env, work / "demo.log", "演示 ssj demo ", processes,
            timeout=1200)
        moment = busiest_tick(base)
        when = moment.simulated_now
        say(f"   看板取逾期事项最多的一次期限检查：{moment.flow_run['name']}"
            + (f"（模拟时间 {when:%Y-%m-%d %H:%M}）" if when else ""))

        say(f"3/5 截图（无头 Chromium {chromium}，{VIEWPORT['width']}×{VIEWPORT['height']}）……")
        camera = Camera(chromium, base, shots)
        taken = []
        for page in board_pages(base, moment):
            taken.append((page, camera.take(page)))
            say(f"   {page.file}：{page.what}")

        say("4/5 注册部署和自动化：短暂运行 ssj serve --no-mail ……")
        registered = register(env, work, demo_out, processes, base)
        for page in REGISTERED_PAGES:
            taken.append((page, camera.take(page)))
            say(f"   {page.file}：{page.what}" + ("" if registered else "（部署未能注册，页面是空的）"))
    finally:
        if camera is not None:
            camera.close()
        say("5/5 停止 Prefect 服务和本次启动的所有进程……")
        processes.stop_all()
        signal.signal(signal.SIGTERM, previous_term)

    out.mkdir(parents=True, exist_ok=True)
    placed = []
    for page, path in taken:
        shutil.copyfile(path, out / page.file)
        placed.append((page, out / page.file))
    return placed


def register(env: dict[str, str], work: Path, demo_out: Path, processes: Processes, base: str) -> bool:
    """The demo campaign's deployments and the automations, as an office has them: ``ssj serve --no-mail``
    runs until the pictures are taken (the board's pages are already taken, so its own ticks change none).
    Should it not register anything, ``ssj deploy`` on a work pool that no worker serves is tried instead."""
    product = {**env, "SSJ_DATABASE_URL": f"sqlite:///{demo_out / 'ssj.db'}", "SSJ_FILES_DIR": str(demo_out),
               "SSJ_USER": "clerk@office.luquan.example"}
    log = work / "register.log"
    serve = processes.start([str(BIN / "ssj"), "serve", "--no-mail", CODE], product, log)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and serve.poll() is None and not api(base, "/deployments/count", {}):
        time.sleep(2)
    if api(base, "/deployments/count", {}):
        wait_for_automations(base, 20)
        return True
    say(f"   注意：ssj serve 没有注册部署（输出见 {log}），改用 ssj deploy --pool {POOL} ……")
    processes.stop(serve)
    processes.started.remove(serve)
    try:
        run([str(BIN / "prefect"), "work-pool", "create", POOL, "--type", "process"], env, log,
            f"创建工作池 {POOL} ", processes, timeout=120)
        run([str(BIN / "ssj"), "deploy", "--pool", POOL, "--no-mail", CODE], product, log, "ssj deploy ", processes,
            timeout=300)
    except Failure as exc:
        say(f"   注意：{exc}")
        return False
    wait_for_automations(base, 20)
    return bool(api(base, "/deployments/count", {}))


def wait_for_automations(base: str, timeout: float) -> None:
    """The automations are created beside the deployments; an installation without any just waits this long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if api(base, "/automations/count", {}):
                return
        except urllib.error.HTTPError:
            return
        time.sleep(2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m docs.screenshots",
                                     description="运行演示并截取 Prefect 看板页面，写入 docs/dashboard-*.png")
    parser.add_argument("--out", type=Path, default=DOCS, help="截图写入的目录（默认 docs/）")
    parser.add_argument("--keep", type=Path, default=None,
                        help="把 Prefect 服务的数据、演示输出和日志留在此目录（默认用临时目录，结束后删除）")
    args = parser.parse_args(argv)
    try:
        chromium = preflight()
    except Failure as exc:
        say(f"无法截图：{exc}")
        return 1
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        work, temporary = args.keep.resolve(), False
    else:
        work, temporary = Path(tempfile.mkdtemp(prefix="ssj-screenshots-")), True
    try:
        placed = take_screenshots(chromium, args.out.resolve(), work)
    except Failure as exc:
        say(f"无法截图：{exc}\n（日志和服务数据留在 {work}，查看后可删除；{args.out} 未改动）")
        return 1
    except KeyboardInterrupt:
        say(f"已中断：本次启动的进程均已停止，{args.out} 未改动。")
        if temporary:
            shutil.rmtree(work, ignore_errors=True)
        return 130
    if temporary:
        shutil.rmtree(work, ignore_errors=True)
    say(f"完成：{len(placed)} 张截图已写入 {args.out}：" + "、".join(p.file for p, _ in placed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
