"""Helpers for the `probectl mcp` tests: an API server that records every HTTP method and can
forbid whole namespaces, and the MCP SDK's own client driving a server in-process or over
stdio."""

from __future__ import annotations

import json
import re

from tests.apiserver import FakeAPIServer, status


class RecordingAPIServer(FakeAPIServer):
    """FakeAPIServer that records the method of every request (a write would show up here
    and be refused with 405), and answers 403 for the namespaces in `forbidden_namespaces`
    with the API server's RBAC wording (k8s.io/apiserver authorization/filters: `pods
    "NAME" is forbidden: User "U" cannot get resource "pods" in API group "" in the
    namespace "NS"`; for a list: `pods is forbidden: ... cannot list resource ...`)."""

    USER = "system:serviceaccount:ci:probectl"

    def __init__(self, *args, **kwargs):
        self.methods: list[str] = []
        self.forbidden_namespaces: set[str] = set()
        super().__init__(*args, **kwargs)

    def _handler(self):
        base = super()._handler()
        server = self

        class Handler(base):
            def do_GET(self):  # noqa: N802
                server.methods.append("GET")
                super().do_GET()

            def _refuse(self):
                server.methods.append(self.command)
                self._json(405, status(405, "MethodNotAllowed", f"{self.command} is not served here"))

            do_POST = do_PUT = do_PATCH = do_DELETE = _refuse  # noqa: N815

        return Handler

    def route(self, path: str, q: dict):
        m = re.fullmatch(r"/api/v1/namespaces/([^/]+)/(pods|events)(?:/([^/]+))?(/log)?", path)
        if m and m.group(1) in self.forbidden_namespaces:
            ns, kind, name, sub = m.groups()
            resource = f"{kind}/log" if sub else kind
            who = f'{kind} "{name}"' if name else kind
            verb = "get" if name else "list"
            message = (f'{who} is forbidden: User "{self.USER}" cannot {verb} resource "{resource}" '
                       f'in API group "" in the namespace "{ns}"')
            return 403, status(403, "Forbidden", message), "json"
        code, body, ctype = super().route(path, q)
        if q.get("labelSelector") and isinstance(body, dict) and isinstance(body.get("items"), list):
            # equality terms only (app=web,tier=db): what these tests select with
            terms = [t.partition("=")[::2] for t in q["labelSelector"].split(",")]
            body["items"] = [i for i in body["items"]
                             if all((i.get("metadata", {}).get("labels") or {}).get(k) == v for k, v in terms)]
        return code, body, ctype


def run_client(server, steps):
    """Connect the SDK's Client to `server` (an MCPServer, or StdioServerParameters / a
    transport) and await `steps(client)`; returns its result."""
    import anyio
    from mcp import Client

    async def main():
        async with Client(server) as client:
            return await steps(client)

    return anyio.run(main)


def text(result) -> str:
    """The text of a CallToolResult (the tools answer with one text block)."""
    assert len(result.content) == 1 and result.content[0].type == "text", result
    return result.content[0].text


def doc(result) -> dict:
    assert not result.is_error, text(result)
    return json.loads(text(result))
