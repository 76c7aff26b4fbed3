"""The HTTP client of the API server: the only module that talks HTTP.

Requests go through a `requests.Session` built from the loaded configuration (a
`probectl.sources.kubeconfig.Connection`) and return raw JSON dicts, the same shapes the
file source produces. No model objects: they are slow to build and add nothing here.
Lists are paged (limit/continue, the next page asked for while one is parsed), 429 and
5xx are retried, watches stream, and every failure is one ClusterError line.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable, Iterator

from probectl.errors import ClusterError, UsageError
from probectl.jsonio import loads
from probectl.sources.kubeconfig import _PROMPT_LOCK, Connection

DEFAULT_TIMEOUT = 30.0
PAGE_SIZE = 500
MAX_ATTEMPTS = 4  # one try and three retries for 429 and 5xx
MAX_RETRY_AFTER = 10.0
RETRY_STATUS = {429, 500, 502, 503, 504}


class Forbidden(ClusterError):
    """403: RBAC does not allow this request."""


class NotFound(ClusterError):
    """404: no such object."""


class Gone(ClusterError):
    """410: a list's continue token expired."""

def parse_timeout(text: str | None) -> float | None:
    """kubectl's --request-timeout: `30s`, `1m`, `500ms`, `2h`, a bare number of seconds; 0 = none."""
    if text is None or text == "":
        return DEFAULT_TIMEOUT
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h)?\s*", text)
    if not m:
        raise UsageError(f"--request-timeout {text!r}: use a duration such as 30s, 1m or 500ms (0 for none)")
    value = float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]
    return None if value == 0 else value


# --------------------------------------------------------------------------- transport


def _status_message(resp) -> str:
    """The API's Status message, or a defensive summary of a plain-text or HTML body."""
    text = resp.text or ""
    try:
        body = loads(resp.content)
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            return body["message"]
    except ValueError:
        pass
    text = re.sub(r"<[^>]+>", " ", text)
    text = " ".join(text.split())
    return text[:200] or resp.reason or ""


class PageGate:
    """At most `n` threads at once hold a parsed list page (a fleet scan shares one gate
    among its contexts: their pages are asked for and downloaded side by side, but parsed
    and used one at a time, so memory holds one parsed page, not one per context; the GIL
    would run that work one at a time anyway). Re-entrant within a thread."""

    def __init__(self, n: int = 1):
        self._sem = threading.BoundedSemaphore(n) if n else None
        self._local = threading.local()

    @contextlib.contextmanager
    def __call__(self):
        depth = getattr(self._local, "depth", 0)
        self._local.depth = depth + 1
        try:
            if self._sem is None or depth:
                yield
            else:
                with self._sem:
                    yield
        finally:
            self._local.depth = depth


_NO_GATE = PageGate(0)


class Client:
    """GET requests against the API server, returning parsed JSON.

    Every call passes verify=, cert= and proxies= explicitly and the session ignores
    the environment (REQUESTS_CA_BUNDLE would otherwise replace the cluster's CA).
    """

    prefetch = True  # ask for a list's next page while the current one is parsed (see list())

    def __init__(self, conn: Connection, timeout: float | None = DEFAULT_TIMEOUT, *,
                 sleep: Callable[[float], None] | None = None, on_request: Callable[[str], None] | None = None,
                 debug=None, page_gate: PageGate | None = None):
        import requests

        self.page_gate = page_gate or _NO_GATE  # held while a list page is parsed and its items used
        self.conn = conn
        self.cfg = conn.configuration
        self.target = conn.target
        self.timeout = timeout
        self.sleep = sleep or (lambda seconds: time.sleep(seconds))
        self.on_request = on_request
        self.debug = debug  # a stream for --debug request lines (credentials redacted), or None
        self.requests = 0
        self._count_lock = threading.Lock()  # pages are fetched from a second thread
        # the refresh hook of a plugin that may prompt: one at a time across clients (contexts)
        self._headers_lock = _PROMPT_LOCK if getattr(conn, "may_prompt", False) else threading.Lock()
        self._early: dict[tuple, _Fetch] = {}  # first pages asked for ahead (start_list)
        self.list_version = ""
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.headers.update({"Accept": "application/json", "User-Agent": _user_agent()})
        sni = getattr(self.cfg, "tls_server_name", None)
        if sni:
            self.session.mount("https://", _sni_adapter(sni))
        self.verify = (self.cfg.ssl_ca_cert or True) if self.cfg.verify_ssl else False
        self.cert = (self.cfg.cert_file, self.cfg.key_file) if self.cfg.cert_file and self.cfg.key_file else None
        if not self.cfg.verify_ssl:
            import urllib3

            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

    def _proxies(self, url: str) -> dict:
        if self.conn.proxy_url:
            return {"http": self.conn.proxy_url, "https": self.conn.proxy_url}
        from requests.utils import get_environ_proxies

        return get_environ_proxies(url)  # HTTPS_PROXY / NO_PROXY, as kubectl honours them

    def _headers(self) -> dict:
        # runs the refresh hook each time (an exec plugin, an OIDC refresh): one at a time,
        # since a page may be asked for from the prefetch thread
        with self._headers_lock:
            token = self.cfg.get_api_key_with_prefix("BearerToken")
        return {"Authorization": token} if token else {}

    def _trace(self, method: str, url: str, params, headers: dict, outcome: str, started: float) -> None:
        """--debug: one line a request, credentials redacted."""
        if self.debug is None:
            return
        shown = {k: (v.split(" ", 1)[0] + " <redacted>" if k.lower() == "authorization" else v) for k, v in headers.items()}
        query = "&".join(f"{k}={v}" for k, v in (params or {}).items())
        cert = " client-cert=<redacted>" if self.cert else ""
        self.debug.write(f"probectl: debug: {method} {url}{'?' + query if query else ''} {shown}{cert} -> {outcome} "
                         f"({(time.monotonic() - started) * 1000:.0f} ms)\n")

    def request(self, path: str, params: dict | None = None, *, accept_json: bool = True, method: str = "GET",
                body: dict | None = None, raw: bool = False):
        """One request with retries. With raw=True (list pages) it returns once the answer's
        headers are in, as a function that reads the body: list() can ask for a page in
        a second thread and read it when it needs it."""
        import requests

        url = self.cfg.host.rstrip("/") + path
        where = self.target.where()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            with self._count_lock:
                self.requests += 1
            if self.on_request:
                self.on_request(path)
            headers = self._headers()
            started = time.monotonic()
            try:
                resp = self.session.request(method, url, params=params, json=body, headers=headers, verify=self.verify,
                                            cert=self.cert, proxies=self._proxies(url), timeout=self.timeout,
                                            allow_redirects=False, stream=raw)
                self._trace(method, url, params, headers, str(resp.status_code), started)
                if resp.status_code < 300:
                    if raw:
                        return _Pending(self, resp)
                    if not accept_json:
                        return resp.text
                    try:
                        return loads(resp.content)
                    except ValueError:
                        raise ClusterError(f"{self.target.server} answered {path} with something that is not JSON, "
                                           f"or cut short ({where})") from None
            except requests.exceptions.RequestException as e:
                self._trace(method, url, params, headers, type(e).__name__, started)
                self._raise_transport(e)
            if resp.status_code in RETRY_STATUS and attempt < MAX_ATTEMPTS:
                resp.close()  # a streamed answer's connection goes back (or away) before the retry
                self.sleep(_retry_delay(resp, attempt))
                continue
            self._fail(resp, path, attempts=attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _read_body(self, resp) -> bytes:
        """A streamed answer's body, read in large blocks (requests' .content reads 10 KiB at
        a time), with transport errors said as request() says them."""
        import requests

        try:
            return b"".join(resp.iter_content(1 << 20))
        except requests.exceptions.RequestException as e:
            self._raise_transport(e)

    def _raise_transport(self, e: Exception):
        """One clear ClusterError for a transport failure (SSLError and ProxyError are
        ConnectionErrors too: they are told apart first)."""
        import requests

        where, server = self.target.where(), self.target.server
        if isinstance(e, requests.exceptions.SSLError):
            raise ClusterError(f"TLS verification failed for {server} ({where}): {_reason(e)}") from None
        if isinstance(e, requests.exceptions.ProxyError):
            raise ClusterError(f"the proxy for {server} failed ({where}): {_reason(e)}") from None
        if isinstance(e, requests.exceptions.ConnectTimeout):
            raise ClusterError(f"timed out connecting to {server} ({where}) after {self.timeout:g}s") from None
        if isinstance(e, requests.exceptions.ReadTimeout):
            raise ClusterError(f"{server} did not answer within {self.timeout:g}s ({where}); "
                               "raise --request-timeout if the cluster is slow") from None
        if isinstance(e, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
            raise ClusterError(f"the answer from {server} was cut short or corrupt ({where}): {_reason(e)}") from None
        if isinstance(e, requests.exceptions.ConnectionError):
            raise ClusterError(f"cannot reach {server} ({where}): {_reason(e)}") from None
        raise ClusterError(f"request to {server} failed ({where}): {_reason(e)}") from None

    def post(self, path: str, body: dict) -> dict:
        result = self.request(path, None, method="POST", body=body)
        if not isinstance(result, dict):
            raise ClusterError(f"{self.target.server} answered {path} with JSON that is not an object ({self.target.where()})")
        return result

    def _fail(self, resp, path: str, attempts: int):
        code, msg, where = resp.status_code, _status_message(resp), self.target.where()
        if code == 401:
            raise ClusterError(f"the server rejected the credentials ({where}): 401 Unauthorized; they are missing or "
                               "expired: log in again (refresh your cloud CLI or OIDC login) and retry")
        if code == 403:
            raise Forbidden(f"forbidden: {msg}")
        if code == 404:
            raise NotFound(msg or f"{path} not found")
        if code == 410:
            raise Gone(msg or "the list expired")
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        raise ClusterError(f"{self.target.server} answered {code} {resp.reason or ''}{tries} ({where}): {msg}".replace("  ", " "))

    def get(self, path: str, params: dict | None = None) -> dict:
        body = self.request(path, params)
        if not isinstance(body, dict):
            raise ClusterError(f"{self.target.server} answered {path} with JSON that is not an object ({self.target.where()})")
        return body

    def text(self, path: str, params: dict | None = None) -> str:
        return self.request(path, params, accept_json=False)

    def _page(self, path: str, params: dict, limit: int, token: str) -> _Pending:
        """Ask for one page of a list; returns the pending answer (call it to read the body)."""
        q = dict(params, limit=str(limit))
        if token:
            q["continue"] = token
        return self.request(path, q, raw=True)

    def close(self) -> None:
        """Drop the first pages asked for ahead and never listed (their connections closed)."""
        for fetch in self._early.values():
            fetch.abandon()
        self._early.clear()

    def start_list(self, path: str, params: dict | None = None, *, limit: int = PAGE_SIZE) -> None:
        """Ask for a list's first page now, in the background; list() with the same arguments
        takes it up (scan fetches the first page of pods while it reads the events)."""
        key = (path, tuple(sorted((params or {}).items())), limit)
        if key not in self._early:
            query = dict(params or {})
            self._early[key] = _Fetch(lambda: self._page(path, query, limit, ""))

    def list(self, path: str, params: dict | None = None, *, limit: int = PAGE_SIZE,
             warn: Callable[[str], None] | None = None) -> Iterator[dict]:
        """Every item of a list, page by page (limit/continue); one page parsed at a time.
        The next page is asked for (in a second thread) while this one is parsed and its
        items used, when its continue token can be read from the page's head; the token
        parsed from the page decides, a page fetched for another token is dropped.
        On 410 Gone the list starts over once; items already yielded may then come again
        (callers key by uid)."""
        params = dict(params or {})
        ahead = self._early.pop((path, tuple(sorted(params.items())), limit), None)
        ahead_token = ""  # the continue token `ahead` was asked for with
        pending: list[_Fetch | None] = [None]  # the page asked for ahead, for the finally below
        try:
            yield from self._pages(path, params, limit, warn, ahead, ahead_token, pending)
        finally:
            if pending[0] is not None:
                pending[0].abandon()  # a list left early (an error, a caller that stopped): close that page

    def _pages(self, path, params, limit, warn, ahead, ahead_token, pending: list) -> Iterator[dict]:
        restarted = False
        token = ""
        while True:
            fetch, ahead = ahead, None
            pending[0] = None
            try:
                if fetch is not None and ahead_token == token:
                    raw = fetch.result()()
                else:
                    if fetch is not None:
                        fetch.abandon()  # asked for with another token: dropped, its connection closed
                    raw = self._page(path, params, limit, token)()
            except Gone:
                if restarted or not token:
                    raise ClusterError(f"the list of {path} kept expiring (410 Gone) ({self.target.where()})") from None
                restarted, token = True, ""
                if warn:
                    warn(f"the list of {path} expired part-way (410 Gone) and was restarted")
                continue
            peeked = _peek_continue(raw) if self.prefetch else None
            if peeked:
                ahead, ahead_token = _Fetch(lambda t=peeked: self._page(path, params, limit, t)), peeked
                pending[0] = ahead
            # parsed and used inside the gate (a fleet scan: one context's page at a time)
            with self.page_gate():
                try:
                    body = loads(raw)
                except ValueError:
                    raise ClusterError(f"{self.target.server} answered {path} with something that is not JSON, "
                                       f"or cut short ({self.target.where()})") from None
                if not isinstance(body, dict):
                    raise ClusterError(f"{self.target.server} answered {path} with JSON that is not an object ({self.target.where()})")
                meta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
                token = meta.get("continue") or ""
                self.list_version = meta.get("resourceVersion") or self.list_version  # where a watch starts
                items = body.get("items")
                del body, raw
                for item in items if isinstance(items, list) else []:
                    if isinstance(item, dict):
                        yield item
                del items  # one page in memory at a time: this one goes before the next is parsed
            if not token:
                return

    def watch(self, path: str, params: dict | None, resource_version: str, *, seconds: int = 300) -> Iterator[dict]:
        """The watch events of one connection: {"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR,
        "object": ...}. Returns when the server ends the watch (timeoutSeconds) or the
        connection drops; raises Gone on 410 (a relist is needed) and ClusterError otherwise."""
        import requests

        q = dict(params or {}, watch="1", resourceVersion=resource_version, allowWatchBookmarks="true",
                 timeoutSeconds=str(seconds))
        url = self.cfg.host.rstrip("/") + path
        with self._count_lock:
            self.requests += 1
        read_timeout = seconds + 30 if self.timeout is None else max(self.timeout, seconds + 30)
        try:
            resp = self.session.get(url, params=q, headers=self._headers(), verify=self.verify, cert=self.cert,
                                    proxies=self._proxies(url), timeout=(self.timeout or 30, read_timeout), stream=True)
        except requests.exceptions.RequestException as e:
            self._raise_transport(e)
        with resp:
            if resp.status_code >= 300:
                self._fail(resp, path, attempts=1)
            try:
                for line in resp.iter_lines(chunk_size=65536):
                    if not line:
                        continue
                    try:
                        event = loads(line)
                    except ValueError:
                        return  # a line cut by a dropped connection: reconnect
                    if not isinstance(event, dict):
                        continue
                    if event.get("type") == "ERROR":
                        status = event.get("object") or {}
                        if status.get("code") == 410:
                            raise Gone(status.get("message") or "too old resource version")
                        raise ClusterError(f"the watch of {path} failed: {status.get('message') or status}")
                    yield event
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError,
                    requests.exceptions.ReadTimeout):
                return  # dropped: the caller reconnects from the last resourceVersion


class _Fetch(threading.Thread):
    """One call run in a daemon thread (asking for a page: sending the request and waiting
    for the answer's headers); result() waits for it and returns its value or raises its
    error. An abandoned one finishes on its own and is dropped."""

    def __init__(self, fn: Callable[[], object]):
        super().__init__(daemon=True, name="probectl-fetch")
        self._fn = fn
        self._value: object = None
        self._error: BaseException | None = None
        self._abandoned = False
        self._lock = threading.Lock()
        self.start()

    def run(self) -> None:
        try:
            value = self._fn()
        except BaseException as e:  # noqa: BLE001 - handed to the consumer by result()
            self._error = e
            return
        with self._lock:
            self._value = value
            abandoned = self._abandoned
        if abandoned:
            _close(value)

    def abandon(self) -> None:
        """Nobody will read the answer: close it (now, or as soon as it arrives)."""
        with self._lock:
            self._abandoned = True
            value, self._value = self._value, None
        _close(value)

    def result(self):
        self.join()
        if self._error is not None:
            raise self._error
        return self._value


class _Pending:
    """A list page whose answer's headers are in: call it to read the body; close() to drop it."""

    def __init__(self, client: Client, resp):
        self._client, self._resp = client, resp

    def __call__(self) -> bytes:
        try:
            return self._client._read_body(self._resp)
        finally:
            self._resp.close()

    def close(self) -> None:
        self._resp.close()


def _close(value) -> None:
    if isinstance(value, _Pending):
        value.close()


def _peek_continue(raw: bytes) -> str | None:
    """A list page's continue token read from its head, before the page is parsed. The API
    server writes kind, apiVersion and metadata before items; any other shape (or a token
    this cannot read) gives None, and the next page is asked for after parsing instead."""
    at = raw.find(b'"items"', 0, 65536)
    if at < 0:
        return None
    head = raw[:at].rstrip()
    if not head.endswith(b","):
        return None
    try:
        doc = loads(head[:-1] + b"}")
    except ValueError:
        return None
    meta = doc.get("metadata") if isinstance(doc, dict) else None
    token = meta.get("continue") if isinstance(meta, dict) else None
    return token if isinstance(token, str) and token else None


def _retry_delay(resp, attempt: int) -> float:
    header = resp.headers.get("Retry-After", "")
    if header.strip().isdigit():
        return min(float(header.strip()), MAX_RETRY_AFTER)
    return min(0.5 * 2 ** (attempt - 1), MAX_RETRY_AFTER)


def _reason(e: Exception) -> str:
    text = str(e)
    for pattern, say in (
        (r"Connection refused", "connection refused"),
        (r"Name or service not known|nodename nor servname|NameResolutionError|getaddrinfo failed|Temporary failure in name resolution",
         "the server's name does not resolve (DNS)"),
        (r"CERTIFICATE_VERIFY_FAILED[^)'\"]*", None),
        (r"hostname .* doesn't match .*|Hostname mismatch[^'\"]*", None),
        (r"timed out", "timed out"),
        (r"Network is unreachable", "network is unreachable"),
    ):
        m = re.search(pattern, text)
        if m:
            return say or m.group(0)
    return text[:300]


def _sni_adapter(server_name: str):
    """kubeconfig's tls-server-name: verify the certificate for this name, whatever the URL's host."""
    from requests.adapters import HTTPAdapter

    class SNIAdapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            kwargs["server_hostname"] = server_name
            kwargs["assert_hostname"] = server_name
            super().init_poolmanager(*args, **kwargs)

    return SNIAdapter()


def _user_agent() -> str:
    from probectl import __version__

    return f"probectl/{__version__}"
