"""`probectl mcp`: serve the diagnosis to AI assistants over the Model Context Protocol."""

from __future__ import annotations

import typer

from probectl.cli import options
from probectl.errors import ExitStatus, UsageError

HELP = """Serve the diagnosis to AI assistants as MCP tools.

Four read-only tools for Claude, Copilot, Cursor or any MCP client: probectl_why,
probectl_scan, probectl_exitcode and probectl_lint.

The assistant starts this command and talks to it on stdin/stdout; logs go to stderr.
Every tool is read-only (GET requests only) and answers with probectl's JSON.
Needs the extra: pip install 'probectl[mcp]'.

\b
  probectl mcp                          # the current kubeconfig context
  probectl mcp --context prod -n shop   # a context and default namespace
  probectl mcp -f dump/                 # kubectl output, not a cluster

\b
  claude mcp add probectl -- probectl mcp --context prod

Exit status: 0 when the client closes the connection, 2 for usage errors or a missing
MCP SDK, 130 when interrupted.
"""

INSTALL = "probectl mcp needs the MCP Python SDK 2.x: pip install 'probectl[mcp]'"


def mcp(
    filename: list[str] | None = typer.Option(
        None, "-f", "--filename",
        help="Serve from kubectl JSON/YAML files or a 'kubectl cluster-info dump' directory instead of a cluster; repeatable."),
    namespace: str | None = typer.Option(None, "-n", "--namespace",
                                         help="The default namespace of the tools (default: the context's, else \"default\")."),
    context: str | None = options.CONTEXT,
    kubeconfig: str | None = options.KUBECONFIG,
    request_timeout: str | None = options.REQUEST_TIMEOUT,
    debug: bool = typer.Option(False, "--debug", help="Log every request and the SDK's messages on stderr, with tracebacks."),
) -> int:
    from probectl.mcp_server import Settings, serve

    settings = Settings(kubeconfig=kubeconfig, context=context, namespace=namespace, request_timeout=request_timeout,
                        filename=tuple(filename or ()), debug=debug)
    settings.check()
    try:
        import mcp.server.mcpserver  # noqa: F401 - the 2.x server API
    except ImportError:
        raise UsageError(INSTALL) from None
    serve(settings)
    return ExitStatus.OK


def register(app: typer.Typer) -> None:
    app.command("mcp", help=HELP)(mcp)
