"""The pipeline itself: pinned actions, least privilege, no findings from zizmor."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ZIZMOR = str(Path(sys.executable).with_name("zizmor"))


def load(path):
    return yaml.safe_load(path.read_text())


def steps(workflow):
    for job in workflow["jobs"].values():
        yield from job.get("steps", [])


def test_zizmor_reports_no_findings():
    proc = subprocess.run([ZIZMOR, "--offline", "--persona=pedantic", "--no-progress",
                           str(ROOT / ".github")], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "No findings to report" in proc.stdout + proc.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned_to_a_commit_with_the_version_in_a_comment(path):
    uses = re.findall(r"uses:\s*(\S+)(.*)", path.read_text())
    assert uses
    for ref, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", ref), ref
        assert re.fullmatch(r"\s*# v\d+\.\d+\.\d+", comment), (ref, comment)


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_least_privilege_and_no_credentials_left_behind(path):
    workflow = load(path)
    assert workflow["permissions"] == {}
    for name, job in workflow["jobs"].items():
        assert "permissions" in job, f"job {name} must say what it needs"
        assert "timeout-minutes" in job, name
    for step in steps(workflow):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False


def test_ci_runs_weekly_the_suite_the_colab_check_and_zizmor():
    workflow = load(ROOT / ".github" / "workflows" / "ci.yml")
    assert workflow[True]["schedule"]  # PyYAML reads the key `on` as True
    runs = " ".join(s.get("run", "") for s in steps(workflow))
    assert "make test" in runs and "make colab-check" in runs and "zizmor" in runs
    ci_run = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci_run and "make colab-check" in ci_run


def test_dependabot_keeps_actions_and_pip_pins_current():
    config = load(ROOT / ".github" / "dependabot.yml")
    ecosystems = {u["package-ecosystem"] for u in config["updates"]}
    assert ecosystems == {"github-actions", "pip"}
    assert re.search(r"^zizmor==\d", (ROOT / "requirements.txt").read_text(), re.M)
