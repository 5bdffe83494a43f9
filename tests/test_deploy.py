"""deploy/: the systemd service and timer parse, the cron line is well formed, and
deploy/nightly.sh runs `minutes fetch` then `minutes sync` (a fake `minutes` on PATH), never
twice at once (flock), and exits non-zero when papers failed."""
from __future__ import annotations

import configparser
import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"
SCRIPT = DEPLOY / "nightly.sh"

# a stand-in for the minutes command: logs its arguments, writes a manifest for `fetch`, and
# exits with $FAKE_FETCH_EXIT / $FAKE_SYNC_EXIT
FAKE = """#!/usr/bin/env bash
printf '%s\\n' "$*" >> "$FAKE_LOG"
if [ "$1" = fetch ]; then
    while [ $# -gt 0 ]; do
        if [ "$1" = -o ]; then mkdir -p "$2" && echo 'path,council,committee,date,title,url' > "$2/manifest.csv"; fi
        shift
    done
    exit "${FAKE_FETCH_EXIT:-0}"
fi
exit "${FAKE_SYNC_EXIT:-0}"
"""


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((DEPLOY / name).read_text(encoding="utf-8"))
    return parser


def test_service_unit():
    svc = unit("minutes-nightly.service")
    assert svc["Service"]["Type"] == "oneshot"
    assert svc["Service"]["ExecStart"].endswith("/deploy/nightly.sh")
    assert svc["Service"]["StandardOutput"] == "journal" and svc["Service"]["StandardError"] == "journal"
    assert "network-online.target" in svc["Unit"]["After"]
    assert svc["Service"]["SuccessExitStatus"] == "75"  # the lock was held: not a failure
    assert "MINUTES_HOME=/var/lib/minutes" in svc["Service"]["Environment"].split()


def test_timer_unit_starts_the_service_nightly():
    timer = unit("minutes-nightly.timer")
    assert timer["Timer"]["OnCalendar"] == "*-*-* 02:30:00"
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Install"]["WantedBy"] == "timers.target"
    assert "Unit" not in timer["Timer"]  # so it starts minutes-nightly.service, its namesake
    assert (DEPLOY / "minutes-nightly.service").is_file()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_verify(tmp_path):
    svc = (DEPLOY / "minutes-nightly.service").read_text().replace("/opt/minutes/deploy/nightly.sh", str(SCRIPT))
    (tmp_path / "minutes-nightly.service").write_text(svc)
    shutil.copy(DEPLOY / "minutes-nightly.timer", tmp_path)
    r = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "minutes-nightly.service"),
                        str(tmp_path / "minutes-nightly.timer")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_cron_line():
    lines = [l for l in (DEPLOY / "crontab").read_text().splitlines() if l.strip() and not l.startswith("#")]
    assert len(lines) == 1
    fields = lines[0].split()
    minute, hour, dom, month, dow, user = fields[:6]
    assert (minute, hour, dom, month, dow) == ("30", "2", "*", "*", "*") and user == "minutes"
    assert "systemd-cat" in fields and fields[-1] == "/opt/minutes/deploy/nightly.sh"


@pytest.fixture
def env(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "minutes"
    fake.write_text(FAKE)
    fake.chmod(0o755)
    home = tmp_path / "home"
    home.mkdir()
    (home / "sources").write_text(
        "# name kind args\n"
        "\n"
        'harrowfield moderngov https://democracy.example.gov.uk --council "Harrowfield District Council"\n'
        "kestrel legistar kestrel --committee 'City Council' --papers\n")
    return {
        "PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": str(tmp_path), "MINUTES_HOME": str(home),
        "MINUTES_ENV": str(tmp_path / "none.env"), "FAKE_LOG": str(tmp_path / "calls.log"),
    }


def run(env: dict, **extra) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT)], env={**env, **extra}, capture_output=True, text=True, timeout=60)


def calls(env: dict) -> list[str]:
    log = Path(env["FAKE_LOG"])
    return log.read_text().splitlines() if log.exists() else []


def test_fetch_then_sync_for_each_source(env):
    r = run(env)
    assert r.returncode == 0, r.stderr
    home = env["MINUTES_HOME"]
    h, k = f"{home}/papers/harrowfield", f"{home}/papers/kestrel"
    assert calls(env) == [
        f"fetch moderngov --since 90d -o {h} https://democracy.example.gov.uk --council Harrowfield District Council",
        f"sync {h} --store {home}/store --manifest {h}/manifest.csv",
        f"fetch legistar --since 90d -o {k} kestrel --committee City Council --papers",
        f"sync {k} --store {home}/store --manifest {k}/manifest.csv",
    ]
    assert "== harrowfield: minutes fetch moderngov" in r.stdout and "done, exit 0" in r.stdout


def test_settings_come_from_the_env_file(env, tmp_path):
    (tmp_path / "nightly.env").write_text(f"MINUTES_STORE={tmp_path}/other-store\nMINUTES_SINCE=7d\n")
    assert run(env, MINUTES_ENV=str(tmp_path / "nightly.env")).returncode == 0
    assert calls(env)[0].startswith("fetch moderngov --since 7d ")
    assert f"--store {tmp_path}/other-store " in calls(env)[1]


def test_failed_papers_make_a_nonzero_exit_and_sync_still_runs(env):
    r = run(env, FAKE_FETCH_EXIT="1")
    assert r.returncode == 1
    assert [c.split()[0] for c in calls(env)] == ["fetch", "sync", "fetch", "sync"]
    Path(env["FAKE_LOG"]).unlink()
    r = run(env, FAKE_SYNC_EXIT="2")
    assert r.returncode == 2 and "done, exit 2" in r.stdout


def test_a_fetch_that_wrote_no_manifest_is_not_synced(env, tmp_path):
    fake = Path(env["PATH"].split(":")[0]) / "minutes"
    fake.write_text('#!/usr/bin/env bash\nprintf "%s\\n" "$*" >> "$FAKE_LOG"\nexit 2\n')
    r = run(env)
    assert r.returncode == 2
    assert [c.split()[0] for c in calls(env)] == ["fetch", "fetch"]
    assert "no manifest.csv, nothing to sync" in r.stderr


def test_two_runs_never_overlap(env):
    lock = Path(env["MINUTES_HOME"]) / "nightly.lock"
    with open(lock, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a run in progress holds it
        r = run(env)
    assert r.returncode == 75 and "another run holds" in r.stderr
    assert calls(env) == []  # nothing was started
    assert run(env).returncode == 0  # released: the next night runs


def test_a_missing_sources_file_is_an_error(env, tmp_path):
    r = run(env, MINUTES_SOURCES=str(tmp_path / "nope"))
    assert r.returncode == 2 and "no sources file" in r.stderr


def test_every_long_running_unit_alerts_on_failure():
    alert = unit("minutes-alert@.service")
    assert alert["Service"]["Type"] == "oneshot"
    assert alert["Service"]["ExecStart"] == "/opt/minutes/deploy/alert.sh %i"
    assert os.access(DEPLOY / "alert.sh", os.X_OK)
    for name in ("minutes-nightly.service", "minutes-serve.service"):
        assert unit(name)["Unit"]["OnFailure"] == "minutes-alert@%n.service", name
    serve = unit("minutes-serve.service")["Service"]
    assert " serve --store /var/lib/minutes/store " in serve["ExecStart"] and serve["Restart"] == "on-failure"


def test_the_readme_installs_what_deploy_ships():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shipped = sorted(p.name for p in DEPLOY.iterdir() if p.suffix in (".service", ".timer"))
    for name in shipped:
        assert f"deploy/{name}" in readme, name
    assert "OnFailure=minutes-alert@%n.service" in readme


def test_alert_mails_the_units_log(tmp_path):
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    for name, out in (("systemctl", "status of $3"), ("journalctl", "log of $2"), ("hostname", "box")):
        (bin_ / name).write_text(f"#!/usr/bin/env bash\necho \"{out}\"\n")
    (bin_ / "mail").write_text('#!/usr/bin/env bash\n{ echo "to=$3 subject=$2"; cat; } > "$MAIL_OUT"\n')
    for f in bin_.iterdir():
        f.chmod(0o755)
    env = {"PATH": f"{bin_}:{os.environ['PATH']}", "MINUTES_ENV": str(tmp_path / "none.env"),
           "MAIL_OUT": str(tmp_path / "mail.txt"), "MINUTES_ALERT_MAIL": "officer@example.org"}
    r = subprocess.run([str(DEPLOY / "alert.sh"), "minutes-nightly.service"], env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "minutes: minutes-nightly.service failed on box" in r.stdout
    mail = (tmp_path / "mail.txt").read_text()
    assert mail.startswith("to=officer@example.org subject=minutes: minutes-nightly.service failed on box")
    assert "status of minutes-nightly.service" in mail and "log of minutes-nightly.service" in mail
