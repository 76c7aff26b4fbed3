"""deploy/rbac.yaml is valid and grants only what probectl reads."""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import ROOT

kv = pytest.importorskip("kubernetes_validate")


def docs():
    return [d for d in yaml.safe_load_all((ROOT / "deploy" / "rbac.yaml").read_text()) if d]


def grants():
    role = next(d for d in docs() if d["kind"] == "ClusterRole")
    return {(g, r, v) for rule in role["rules"] for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]}


def test_valid_objects():
    for d in docs():
        kv.validate(d, "1.32", strict=True)


def test_read_only_and_minimal():
    g = grants()
    assert {v for _, _, v in g} == {"get", "list", "watch"}  # read-only
    assert {("", "pods", "get"), ("", "pods", "list"), ("", "pods", "watch"), ("", "events", "list"),
            ("", "events", "watch"), ("", "pods/log", "get")} <= g
    assert {grp for grp, _, _ in g} == {"", "apps", "batch"}
    assert not any(r in ("secrets", "configmaps", "*") for _, r, _ in g)


def test_auth_checks_exactly_what_the_role_grants():
    from probectl.cli.auth import PERMISSIONS

    checked = {(group, res + (f"/{sub}" if sub else ""), verb) for verb, group, res, sub, _ in PERMISSIONS}
    assert checked == grants()


def test_workload_kinds_can_be_read():
    """Issue 27: why KIND/NAME gets the workload and lists its ReplicaSets or Jobs; scan
    lists the workloads of its scope."""
    g = grants()
    for group, resource in (("apps", "deployments"), ("apps", "statefulsets"), ("apps", "daemonsets"),
                            ("apps", "replicasets"), ("batch", "jobs"), ("batch", "cronjobs")):
        assert {(group, resource, "get"), (group, resource, "list")} <= g, resource
