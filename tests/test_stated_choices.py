"""A hardening or best-practice finding whose place carries a comment stating the choice is
counted, not listed: the maintainers have weighed the advice (infralint.stated_choices)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scanning import found, run_cli, scan_tree, write

from infralint.catalog import meta_by_id
from infralint.stated_choices import applies, comment_of, states_choice

COMPOSE = """services:
  web:
    image: example/web:latest  # the release script pins master's latest on purpose
    privileged: true  # needed by the VPN client
  api:
    image: example/api:latest  # TODO: pin a version
  worker:
    # the image of the worker
    image: example/worker:latest
  jobs:
    # pinned by the release job, which deploys what master built, because
    # rollbacks go through git
    image: example/jobs:latest
  cron:
    image: example/cron:latest  # we pin this for now, because of a bug
"""

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 2
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
        # we intentionally run without limits: the node is dedicated to it
        - name: api
          image: example/api:1.2
        # ships the logs, because the app writes them to files
        - name: shipper
          image: example/shipper:1.0
"""

NGINX = """events {}
http {
  server {
    listen 80;
    server_tokens on;  # deliberately on: the status page shows the version
  }
  server {
    listen 8080;
    server_tokens on; add_header X-Why "# on purpose";
  }
  server {
    listen 8081;
    server_tokens on; set $u http://example.com/#deliberately;
  }
}
"""

REDIS = """bind 0.0.0.0
# needed by the sidecar in the other network namespace, on purpose
protected-mode no
# No memory limit on purpose: the container's limit sizes the cache
maxmemory 0
"""


def _tree(root: Path) -> None:
    write(root, "compose.yaml", COMPOSE)
    write(root, "deploy.yaml", DEPLOYMENT)
    write(root, "nginx.conf", NGINX)
    write(root, "redis.conf", REDIS)


def test_a_stated_choice_is_left_out_and_counted(tmp_path: Path) -> None:
    _tree(tmp_path)
    report = scan_tree(tmp_path)
    findings = found(report)
    assert ("compose.yaml", 3, "compose-image-latest-tag") not in findings  # "on purpose"
    assert ("compose.yaml", 13, "compose-image-latest-tag") not in findings  # "because", run above
    assert ("deploy.yaml", 15, "k8s-missing-memory-limit") not in findings  # names the limits
    assert ("nginx.conf", 5, "nginx-server-tokens") not in findings
    assert ("redis.conf", 5, "redis-no-maxmemory") not in findings  # the line holds the value
    assert report.stated_choices == {
        "compose-image-latest-tag": 2,
        "k8s-missing-memory-limit": 1,
        "nginx-server-tokens": 1,
        "redis-no-maxmemory": 1,
    }


def test_work_doubt_and_descriptions_are_not_choices(tmp_path: Path) -> None:
    _tree(tmp_path)
    findings = found(scan_tree(tmp_path))
    assert ("compose.yaml", 6, "compose-image-latest-tag") in findings  # TODO
    assert ("compose.yaml", 9, "compose-image-latest-tag") in findings  # describes the setting
    assert ("compose.yaml", 15, "compose-image-latest-tag") in findings  # "for now"


def test_a_comment_on_an_object_must_name_what_the_finding_is_about(tmp_path: Path) -> None:
    """`# we intentionally run without limits` above a container is about its limits, not its
    probes; `# ships the logs, because ...` is about the container, not any setting."""
    _tree(tmp_path)
    findings = found(scan_tree(tmp_path))
    assert ("deploy.yaml", 15, "k8s-missing-liveness-probe") in findings
    assert ("deploy.yaml", 15, "k8s-run-as-root") in findings
    assert ("deploy.yaml", 18, "k8s-missing-memory-limit") in findings
    assert ("deploy.yaml", 18, "k8s-missing-liveness-probe") in findings


def test_security_errors_stay_whatever_the_comment_says(tmp_path: Path) -> None:
    _tree(tmp_path)
    report = scan_tree(tmp_path)
    assert ("compose.yaml", 4, "compose-privileged") in found(report)
    # folded into redis-no-auth (one cause), whose related locations list it
    related = {(r.span.path, r.span.line) for finding in report.findings for r in finding.related}
    assert ("redis.conf", 3) in related
    assert "redis-protected-mode-off" not in report.stated_choices


def test_a_security_rule_of_error_severity_stays_when_component_data_made_it_a_note(tmp_path: Path) -> None:
    """The runtime socket is the danger itself: the note that Traefik needs it by design stays."""
    write(
        tmp_path,
        "compose.yaml",
        "services:\n  proxy:\n    image: traefik:2.6\n    volumes:\n"
        "      # So that Traefik can listen to the Docker events\n"
        "      - /var/run/docker.sock:/var/run/docker.sock\n",
    )
    report = scan_tree(tmp_path)
    assert ("compose.yaml", 6, "compose-docker-socket") in found(report)
    assert not report.stated_choices


def test_a_security_rule_raised_to_error_by_the_config_stays(tmp_path: Path) -> None:
    _tree(tmp_path)
    write(tmp_path, ".infralint.yaml", "severity: {nginx-server-tokens: error}\n")
    _code, output = run_cli("scan", "--no-color", ".", cwd=tmp_path)
    assert "nginx.conf:5:5: error nginx-server-tokens" in output, output


def test_correctness_findings_stay(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        "services:\n  web:\n    image: example/web:1.0\n    networks: [back]  # on purpose, because it is shared\n",
    )
    findings = found(scan_tree(tmp_path))
    assert ("compose.yaml", 4, "compose-undefined-reference") in findings
    metas = meta_by_id()
    assert not applies(metas["compose-undefined-reference"])
    assert not applies(metas["infralint-parse-error"])
    assert applies(metas["compose-image-latest-tag"])


def test_a_hash_inside_quotes_or_a_url_is_no_comment(tmp_path: Path) -> None:
    _tree(tmp_path)
    findings = found(scan_tree(tmp_path))
    assert ("nginx.conf", 9, "nginx-server-tokens") in findings
    assert ("nginx.conf", 13, "nginx-server-tokens") in findings


@pytest.mark.parametrize(
    ("line", "comment"),
    [
        ("image: app:latest  # on purpose", " on purpose"),
        ('color: "#fff"', None),
        ("color: '#fff' # theme", " theme"),
        ('value: "a \\" # b"  # c', " c"),
        ("url: http://host/#frag", None),
        ("location ~ a#b {", None),
        ("# whole line", " whole line"),
        ("key: it's # here", " here"),
    ],
)
def test_comment_of(line: str, comment: str | None) -> None:
    assert comment_of(line) == comment


@pytest.mark.parametrize(
    "text",
    [
        "the release script pins master's latest on purpose",
        "we intentionally run without limits",
        "Deliberately unpinned",
        "no need to limit it: the node is dedicated",
        "needed by the DHCP server",
        "required for the VPN",
        "traefik needs the docker socket",
        "So that Traefik can listen to the Docker events",
        "otherwise the exporter cannot read /proc",
        "Recommended but not required (DHCP needs NET_ADMIN)",
    ],
)
def test_choices(text: str) -> None:
    assert states_choice(text)


@pytest.mark.parametrize(
    "text",
    [
        "memory limit",
        "TODO: add limits",
        "FIXME because it breaks",
        "XXX on purpose?",
        "this should be pinned because",
        "change me, on purpose",
        "latest for now, because",
        "temporary: deliberately open",
        "insecure on purpose",
        "uncomment to add limits because",
        "unintentional",
        "otherwise defaults to 1",
        "we recommend pinning because",
    ],
)
def test_not_choices(text: str) -> None:
    assert not states_choice(text)


def test_a_license_header_is_not_a_comment_on_the_first_line_below_it(tmp_path: Path) -> None:
    from infralint.stated_choices import _Comments

    header = "# Licensed under the Apache License, Version 2.0\n# Unless required by applicable law or agreed to\n"
    write(tmp_path, "a.yaml", header + "apiVersion: apps/v1\n")
    write(tmp_path, "b.yaml", "# required by the exporter\napiVersion: apps/v1\n")
    comments = _Comments(str(tmp_path))
    assert comments.beside("a.yaml", 3) is None
    assert comments.beside("b.yaml", 2) == ("apiVersion: apps/v1", " required by the exporter")


def test_show_stated_choices_lists_them(tmp_path: Path) -> None:
    _tree(tmp_path)
    report = scan_tree(tmp_path, stated_choices=False)
    assert ("compose.yaml", 3, "compose-image-latest-tag") in found(report)
    assert not report.stated_choices
    _code, output = run_cli("scan", "--no-color", "--show-stated-choices", ".", cwd=tmp_path)
    assert "compose.yaml:3:5: warning compose-image-latest-tag" in output
    assert "where a comment states the choice" not in output


def test_the_summary_counts_them(tmp_path: Path) -> None:
    _tree(tmp_path)
    _code, output = run_cli("scan", "--no-color", ".", cwd=tmp_path)
    assert "5 findings left out where a comment states the choice (--show-stated-choices shows them)." in output
    _code, output = run_cli("scan", "--format", "json", ".", cwd=tmp_path)
    document = json.loads(output)
    assert document["summary"]["stated_choices"] == {
        "hidden": 5,
        "by_rule": {
            "compose-image-latest-tag": 2,
            "k8s-missing-memory-limit": 1,
            "nginx-server-tokens": 1,
            "redis-no-maxmemory": 1,
        },
    }
    assert all(
        finding["location"]["path"] != "redis.conf" or finding["location"]["line"] != 5
        for finding in document["findings"]
    )


def test_the_config_key_turns_it_off(tmp_path: Path) -> None:
    _tree(tmp_path)
    write(tmp_path, ".infralint.yaml", "stated-choices: false\n")
    _code, output = run_cli("scan", "--no-color", ".", cwd=tmp_path)
    assert "compose.yaml:3:5: warning compose-image-latest-tag" in output
    assert "where a comment states the choice" not in output


def test_the_config_key_is_validated(tmp_path: Path) -> None:
    _tree(tmp_path)
    write(tmp_path, ".infralint.yaml", "stated-choices: maybe\n")
    code, output = run_cli("scan", "--no-color", ".", cwd=tmp_path)
    assert code == 2
    assert "stated-choices" in output


@pytest.mark.parametrize(
    ("words", "rule_id", "named"),
    [
        ("we intentionally run without limits", "k8s-missing-memory-limit", True),
        ("no health check on purpose", "compose-no-healthcheck", True),
        ("adds the capabilities it needs", "compose-dangerous-capabilities", True),
        ("one replica on purpose", "k8s-single-replica", True),
        ("the app writes to files, because", "k8s-writable-root-filesystem", False),
        ("the server, because", "nginx-server-tokens", False),
        ("memory on purpose", "redis-no-maxmemory", False),
    ],
)
def test_a_comment_names_the_topic_of_a_rule(words: str, rule_id: str, named: bool) -> None:
    from infralint.stated_choices import _names_topic, _topic

    assert _names_topic(words.replace(",", "").split(), _topic(rule_id)) is named
