"""Escaping for the formats CI systems read: GitHub workflow commands, JUnit XML, SARIF.

One home for it, used by the `scan` and `lint` renderers. Every function takes untrusted
text (cluster data, file names) and returns text that cannot break out of its place:
no workflow command started by a message, no XML made invalid by a control character.
"""

from __future__ import annotations

import os
from urllib.parse import quote

from probectl.render.safe import clean


def gh_data(s: str) -> str:
    """The message of a workflow command (`::error ...::MESSAGE`): one line, `%`, CR and LF
    escaped as GitHub decodes them, control characters made visible."""
    return clean(s, oneline=True).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def gh_prop(s: str) -> str:
    """A workflow command property (`file=`, `title=`): as `gh_data`, and `:` `,` escaped."""
    return gh_data(s).replace(":", "%3A").replace(",", "%2C")


def xml_text(s: str) -> str:
    """Text for an XML 1.0 attribute or element: control characters made visible (XML
    forbids them), & < > " escaped."""
    from xml.sax.saxutils import escape

    return escape(clean(s), {'"': "&quot;"})


def repo_path(path: str) -> str:
    """A file as CI tools name it: relative to the working directory (the checkout) when
    absolute, with forward slashes."""
    if os.path.isabs(path):
        try:
            path = os.path.relpath(path)
        except ValueError:  # another drive (Windows): keep it absolute
            pass
    return path.replace(os.sep, "/")


def uri(path: str) -> str:
    """A SARIF `artifactLocation.uri`: `repo_path` as a relative URI reference (spaces, `%`,
    `#`, `?` and the like percent-encoded)."""
    return quote(repo_path(path), safe="/")
