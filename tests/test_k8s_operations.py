"""Kubernetes correctness and operations rules: the cron grammar the API server accepts, and
cases the fixtures do not spell out."""

from __future__ import annotations

from pathlib import Path

import pytest
from scanning import found, scan_tree, write

from infralint.checks.k8s_operations import schedule_error


@pytest.mark.parametrize(
    "schedule",
    [
        "* * * * *",
        "0 0 1 1 0",
        "59 23 31 12 6",
        "*/15 * * * *",
        "0 8-18/2 * * mon-fri",
        "0 0 * JAN,jul,Dec SUN",
        "5/10 * * * *",
        "0 0 ? * *",
        "0,30 1,13 1-7,15 * *",
        "  0  3 * * *  ",
        "@yearly",
        "@annually",
        "@monthly",
        "@weekly",
        "@daily",
        "@midnight",
        "@hourly",
        "@every 90s",
        "@every 1h30m",
        "@every 1.5h",
        "TZ=UTC 0 0 * * *",
        "CRON_TZ=America/Argentina/Buenos_Aires 0 0 * * *",
        "CRON_TZ=Etc/GMT+5 @daily",
        "TZ= 0 0 * * *",
    ],
)
def test_schedules_that_parse(schedule: str) -> None:
    assert schedule_error(schedule) is None


@pytest.mark.parametrize(
    "schedule",
    [
        "",
        "   ",
        "* * * *",
        "0 * * * * *",
        "60 * * * *",
        "* 24 * * *",
        "* * 0 * *",
        "* * 32 * *",
        "* * * 0 *",
        "* * * 13 *",
        "* * * * 7",
        "* * * * MON-SUN",
        "5-1 * * * *",
        "*/0 * * * *",
        "*/x * * * *",
        "1/2/3 * * * *",
        "1-2-3 * * * *",
        "0,,30 * * * *",
        "0 0 * January *",
        "0 0 * * Monday",
        "0 0 L * *",
        "0 0 * * 1#2",
        "0 0 15W * *",
        "-1 * * * *",
        "@reboot",
        "@Daily",
        "@every",
        "@every 5 minutes",
        "TZ=Europe/../Berlin 0 0 * * *",
        "CRON_TZ=Europe/Berlin",
    ],
)
def test_schedules_cron_refuses(schedule: str) -> None:
    assert schedule_error(schedule)


CRONJOB = """apiVersion: {api}
kind: CronJob
metadata:
  name: job
spec:
  schedule: {schedule}
  concurrencyPolicy: Forbid
  startingDeadlineSeconds: 60
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - {{name: job, image: "registry.example.com/job:1.0.0"}}
"""


@pytest.mark.parametrize(
    ("api", "schedule", "reported"),
    [
        ("batch/v1", '"0 0 3 * * *"', True),
        ("batch/v1beta1", '"61 * * * *"', True),
        ("batch/v1", '"{{ .Values.schedule }}"', False),  # a template not rendered yet
        ("batch/v1", "$SCHEDULE", False),
        ("batch/v1", "5", False),  # not a string: the schema's to refuse
        ("example.com/v1", '"0 0 3 * * *"', False),  # another API's CronJob
    ],
)
def test_schedule_rule_on_manifests(tmp_path: Path, api: str, schedule: str, reported: bool) -> None:
    write(tmp_path, "cronjob.yaml", CRONJOB.format(api=api, schedule=schedule))
    report = scan_tree(tmp_path, select=["k8s-cronjob-invalid-schedule"])
    assert bool(found(report)) is reported


def test_probe_by_number_on_a_port_another_container_serves_over_tcp(tmp_path: Path) -> None:
    """The pod shares one network namespace: a TCP socket in a sibling answers the probe."""
    write(
        tmp_path,
        "pod.yaml",
        """apiVersion: v1
kind: Pod
metadata:
  name: dns
spec:
  containers:
    - name: udp
      image: registry.example.com/dns:1.0.0
      ports: [{containerPort: 53, protocol: UDP}]
      readinessProbe: {tcpSocket: {port: 53}}
    - name: tcp
      image: registry.example.com/dns-tcp:1.0.0
      ports: [{containerPort: 53}]
""",
    )
    assert not found(scan_tree(tmp_path, select=["k8s-probe-protocol-mismatch"]))


def test_operations_rules_stay_quiet_in_development_files_but_correctness_rules_do_not() -> None:
    from infralint.catalog import meta_by_id
    from infralint.development import applies_in_development

    metas = meta_by_id()
    assert all(
        applies_in_development(metas[rule])
        for rule in ("k8s-duplicate-env", "k8s-cronjob-invalid-schedule", "k8s-probe-protocol-mismatch")
    )
    assert not any(
        applies_in_development(metas[rule])
        for rule in (
            "k8s-ingress-nginx-snippet",
            "k8s-job-no-ttl",
            "k8s-cronjob-no-deadline",
            "k8s-cronjob-concurrency",
        )
    )
