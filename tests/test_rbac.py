"""deploy/rbac.yaml is valid and grants only what probectl reads."""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import ROOT

kv = pytest.importorskip("kubernetes_validate")


def docs():
    return [d for d in yaml.safe_load_all((ROOT / "deploy" / "rbac.yaml").read_text()) if d]


def test_valid_objects():
    for d in docs():
        kv.validate(d, "1.32", strict=True)


def test_read_only_and_minimal():
    role = next(d for d in docs() if d["kind"] == "ClusterRole")
    grants = {(r, v) for rule in role["rules"] for r in rule["resources"] for v in rule["verbs"]}
    assert grants == {("pods", "get"), ("pods", "list"), ("pods", "watch"), ("events", "list"), ("events", "watch"),
                      ("pods/log", "get")}


def test_auth_checks_exactly_what_the_role_grants():
    from probectl.cli.auth import PERMISSIONS

    role = next(d for d in docs() if d["kind"] == "ClusterRole")
    grants = {(r, v) for rule in role["rules"] for r in rule["resources"] for v in rule["verbs"]}
    checked = {(res + (f"/{sub}" if sub else ""), verb) for verb, res, sub, _ in PERMISSIONS}
    assert checked == grants
    assert all(rule["apiGroups"] == [""] for rule in role["rules"])
