"""probectl/render/ci.py: the escaping shared by the scan and lint CI formats."""

from __future__ import annotations

import os

from lxml import etree

from probectl.render import ci


def test_github_message_cannot_start_a_workflow_command():
    assert ci.gh_data("50%\r\n::error::x\x1b[31m") == "50%25 ::error::x^[[31m"
    assert "\n" not in ci.gh_data("a\nb") and "\r" not in ci.gh_data("a\rb")


def test_github_property_escapes_separators():
    assert ci.gh_prop("PL004 x: a,b%") == "PL004 x%3A a%2Cb%25"


def test_xml_text_is_valid_xml_1_0():
    s = ci.xml_text('<a b="c"> & \x1b\x00')
    assert s == "&lt;a b=&quot;c&quot;&gt; &amp; ^[^@"
    etree.fromstring(f'<x y="{s}">{s}</x>'.encode())


def test_paths_for_ci(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert ci.repo_path(str(tmp_path / "k8s" / "a b.yaml")) == "k8s/a b.yaml"
    assert ci.repo_path(os.path.join("k8s", "x.yaml")) == "k8s/x.yaml"
    assert ci.uri(str(tmp_path / "k8s" / "a b#1%.yaml")) == "k8s/a%20b%231%25.yaml"
