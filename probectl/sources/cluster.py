"""The API server: the only module that imports the kubernetes package.

The kubernetes package loads the configuration (kubeconfig files and contexts, exec and
auth-provider credential plugins, the in-cluster service account); requests go through
a `requests.Session` built from it and return raw JSON dicts, the same shapes the file
source produces. No model objects: they are slow to build and add nothing here.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

from probectl.errors import ClusterError, InputError, UsageError
from probectl.jsonio import loads

DEFAULT_TIMEOUT = 30.0
PAGE_SIZE = 500
MAX_ATTEMPTS = 4  # one try and three retries for 429 and 5xx
MAX_RETRY_AFTER = 10.0
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
RETRY_STATUS = {429, 500, 502, 503, 504}


class Forbidden(ClusterError):
    """403: RBAC does not allow this request."""


class NotFound(ClusterError):
    """404: no such object."""


class Gone(ClusterError):
    """410: a list's continue token expired."""


@dataclass(frozen=True)
class Target:
    """Where requests go, in the words error messages use."""

    context: str
    server: str
    namespace: str
    source: str  # "kubeconfig /home/me/.kube/config" or "in-cluster service account"

    def where(self) -> str:
        return f'context "{self.context}", server {self.server}' if self.context else f"server {self.server}"


def parse_timeout(text: str | None) -> float | None:
    """kubectl's --request-timeout: `30s`, `1m`, `500ms`, `2h`, a bare number of seconds; 0 = none."""
    if text is None or text == "":
        return DEFAULT_TIMEOUT
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h)?\s*", text)
    if not m:
        raise UsageError(f"--request-timeout {text!r}: use a duration such as 30s, 1m or 500ms (0 for none)")
    value = float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]
    return None if value == 0 else value


# --------------------------------------------------------------------------- configuration


def _kubeconfig_paths(kubeconfig: str | None) -> tuple[list[str], bool]:
    """The files to merge and whether the user named them with --kubeconfig."""
    if kubeconfig:
        return [kubeconfig], True
    env = os.environ.get("KUBECONFIG", "")
    if env:
        return [p for p in env.split(os.pathsep) if p], False
    return [os.path.join(os.path.expanduser("~"), ".kube", "config")], False


def _in_cluster_available() -> bool:
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and os.path.exists(os.path.join(SA_DIR, "token"))


def _read_yaml(path: str) -> dict:
    import yaml

    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except OSError as e:
        raise ClusterError(f"cannot read kubeconfig {path}: {e.strerror or e}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        raise ClusterError(f"kubeconfig {path} is not valid YAML{at}") from None
    if data is None:
        raise ClusterError(f"kubeconfig {path} is empty")
    if not isinstance(data, dict):
        raise ClusterError(f"kubeconfig {path} is not a kubeconfig (expected a mapping with clusters, contexts and users)")
    return data


def _named(files: list[dict], section: str, name: str) -> dict | None:
    """kubectl's merge rule: the first file that defines a name wins."""
    for data in files:
        for item in data.get(section) or []:
            if isinstance(item, dict) and item.get("name") == name:
                value = item.get(section[:-1])
                return value if isinstance(value, dict) else {}
    return None


class _LogCapture(logging.Handler):
    """The kubernetes package only logs a failing exec plugin; keep what it said (in this
    thread only: a fleet scan loads several contexts at once)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []
        self.thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.messages.append(record.getMessage())


# Exec credential plugins that may prompt (interactiveMode other than Never: the client
# hands them the terminal) run one at a time, whichever context they belong to: when
# the configuration is loaded and when a Client's refresh hook runs them again.
_PROMPT_LOCK = threading.RLock()


def may_prompt(user: dict) -> bool:
    """Does this kubeconfig user run an exec plugin that may ask the user something?"""
    spec = user.get("exec") if isinstance(user, dict) else None
    return isinstance(spec, dict) and spec.get("interactiveMode") != "Never"


@dataclass
class Connection:
    """A loaded configuration: the kubernetes Configuration and where it points."""

    configuration: object
    target: Target
    proxy_url: str = ""  # kubeconfig's proxy-url; the client's Configuration.proxy also picks up the environment
    warnings: list[str] = field(default_factory=list)
    may_prompt: bool = False  # an exec plugin that may prompt: its refreshes take _PROMPT_LOCK


class _Partial(types.ModuleType):
    """A package of the kubernetes distribution whose __init__ has not run: its submodules
    import from its directory as usual, and the first attribute it lacks runs the real
    __init__ into it (all of the package, as `import kubernetes` does)."""

    def __getattr__(self, name: str):
        spec = self.__dict__.pop("_probectl_spec", None) if name not in ("__wrapped__", "__loader__") else None
        if spec is None:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        for standin in self.__dict__.pop("_probectl_standins", ()):
            self.__dict__.pop(standin, None)  # the real package defines its own
        spec.loader.exec_module(self)
        return getattr(self, name)


def _lazy_class(module: str, name: str) -> type:
    """A stand-in for a class that kube_config imports and uses only to refresh an OIDC
    token (ApiClient, which imports every API model; OAuth2Session): the real class is
    imported when one is made."""

    def __new__(cls, *args, **kwargs):
        import importlib

        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    return type(name, (), {"__new__": __new__, "__doc__": f"{module}.{name}, imported when first used"})


_PARTIAL = ("kubernetes", "kubernetes.client", "oauthlib", "oauthlib.oauth2", "requests_oauthlib")


def _light_kubernetes() -> None:
    """Make the configuration loaders importable without `import kubernetes`, which imports
    every API and model (about 0.15 s of `probectl why`'s 0.25-0.4 s): the packages in
    _PARTIAL are registered without running their __init__ (the real Configuration class
    in kubernetes.client, stand-ins for what only an OIDC refresh uses), and any other
    use completes them (_Partial). The configuration is still loaded by the package's
    own loaders. If this does not work with the installed versions, nothing is left of
    it and the packages are imported as usual."""
    if any(name in sys.modules for name in _PARTIAL):
        return
    import importlib.machinery
    import importlib.util

    before = set(sys.modules)
    try:
        for name in _PARTIAL:
            parent, _, child = name.rpartition(".")
            # (importlib.util.find_spec of a submodule would import its parent whole)
            spec = (importlib.machinery.PathFinder.find_spec(name, sys.modules[parent].__path__) if parent
                    else importlib.util.find_spec(name))
            if spec is None or not spec.submodule_search_locations:
                raise ImportError(name)
            module = _Partial(name)
            module.__spec__, module.__loader__, module.__file__ = spec, spec.loader, spec.origin
            module.__path__ = list(spec.submodule_search_locations)
            module.__package__ = name
            module._probectl_spec = spec
            sys.modules[name] = module
            if parent:
                setattr(sys.modules[parent], child, module)
        from kubernetes.client.configuration import Configuration

        sys.modules["kubernetes.client"].__dict__.update(
            Configuration=Configuration, ApiClient=_lazy_class("kubernetes.client.api_client", "ApiClient"),
            _probectl_standins=("Configuration", "ApiClient"))
        sys.modules["requests_oauthlib"].__dict__.update(
            OAuth2Session=_lazy_class("requests_oauthlib.oauth2_session", "OAuth2Session"),
            _probectl_standins=("OAuth2Session",))
        import kubernetes.config.kube_config  # noqa: F401 - fails here if these versions need more
    except Exception:  # noqa: BLE001 - any surprise: forget the partial modules, import as usual
        for name in set(sys.modules) - before:
            if name.split(".")[0] in _PARTIAL:
                del sys.modules[name]


_PREPARED = threading.Lock()
_prepared = False


def prepare() -> None:
    """Import and initialise the configuration loaders once, in this thread, before
    several threads call connect() (a fleet scan): the lazy import shim above, and a lock
    around kube_config's cache of temporary certificate files (it names a file before
    writing it: two contexts with the same CA data loading at once could read it empty)."""
    global _prepared
    with _PREPARED:
        if _prepared:
            return
        _light_kubernetes()
        from kubernetes.client import Configuration  # noqa: F401
        from kubernetes.config import kube_config
        from kubernetes.config.config_exception import ConfigException  # noqa: F401

        original = getattr(kube_config, "_create_temp_file_with_content", None)
        if callable(original):
            lock = threading.Lock()

            def _locked(*args, **kwargs):
                with lock:
                    return original(*args, **kwargs)

            kube_config._create_temp_file_with_content = _locked
        _prepared = True


def context_names(kubeconfig: str | None = None) -> tuple[list[str], list[str]]:
    """Every context of the kubeconfig (KUBECONFIG's files merged as kubectl merges them:
    a name defined twice counts once, the first file's), sorted as `kubectl config
    get-contexts` lists them; and the files read. Raises UsageError or ClusterError."""
    paths, explicit = _kubeconfig_paths(kubeconfig)
    existing = [p for p in (os.path.expanduser(p) for p in paths) if os.path.isfile(p)]
    if explicit and not existing:
        raise UsageError(f"--kubeconfig {kubeconfig}: no such file")
    if not existing:
        looked = os.environ.get("KUBECONFIG") and "the files in KUBECONFIG" or paths[0]
        raise ClusterError(f"no kubeconfig found ({looked}): a fleet scan reads its contexts; "
                           "point --kubeconfig or KUBECONFIG at one")
    files = [_read_yaml(p) for p in existing]
    names = {c.get("name") for d in files for c in (d.get("contexts") or []) if isinstance(c, dict)}
    return sorted(n for n in names if isinstance(n, str) and n), existing


def connect(kubeconfig: str | None = None, context: str | None = None, namespace: str | None = None) -> Connection:
    """Load the configuration the way kubectl does. Raises UsageError or ClusterError."""
    _light_kubernetes()
    from kubernetes.client import Configuration
    from kubernetes.config.config_exception import ConfigException

    paths, explicit = _kubeconfig_paths(kubeconfig)
    existing = [p for p in (os.path.expanduser(p) for p in paths) if os.path.isfile(p)]
    if explicit and not existing:
        raise UsageError(f"--kubeconfig {kubeconfig}: no such file")
    if not existing:
        if _in_cluster_available() and not context:
            return _in_cluster(namespace)
        looked = os.environ.get("KUBECONFIG") and "the files in KUBECONFIG" or paths[0]
        raise ClusterError(f"no kubeconfig found ({looked}) and not running inside a pod: "
                           "point --kubeconfig or KUBECONFIG at one, or use -f with kubectl output")
    files = [_read_yaml(p) for p in existing]
    ctx_name = context or next((d["current-context"] for d in files if isinstance(d.get("current-context"), str)
                                and d["current-context"]), "")
    contexts = sorted({c.get("name") for d in files for c in (d.get("contexts") or []) if isinstance(c, dict) and c.get("name")})
    if not ctx_name:
        raise ClusterError(f"no current context in {', '.join(existing)}: choose one with --context"
                           + (f" ({', '.join(contexts[:8])})" if contexts else ""))
    ctx = _named(files, "contexts", ctx_name)
    if ctx is None:
        raise ClusterError(f'context "{ctx_name}" does not exist in {", ".join(existing)}'
                           + (f" (contexts: {', '.join(contexts[:8])})" if contexts else ""))
    cluster = _named(files, "clusters", str(ctx.get("cluster", ""))) or {}
    user = _named(files, "users", str(ctx.get("user", ""))) or {}
    server = str(cluster.get("server", "")) if cluster else ""
    if not server:
        raise ClusterError(f'context "{ctx_name}" names cluster "{ctx.get("cluster", "")}", which has no server in {", ".join(existing)}')

    cfg = Configuration()
    capture = _LogCapture()
    root = logging.getLogger()
    root.addHandler(capture)
    prompting = may_prompt(user)
    try:
        from kubernetes.config import load_kube_config

        # config_file is explicit (never the import-time KUBECONFIG default); persist_config
        # False so a token refresh never rewrites the user's kubeconfig.
        with _PROMPT_LOCK if prompting else contextlib.nullcontext():
            load_kube_config(config_file=os.pathsep.join(existing), context=ctx_name,
                             client_configuration=cfg, persist_config=False)
    except ConfigException as e:
        raise ClusterError(f'cannot load context "{ctx_name}" from {", ".join(existing)}: {e}') from None
    except (OSError, ValueError, TypeError, KeyError) as e:
        raise ClusterError(f'cannot load context "{ctx_name}" from {", ".join(existing)}: {type(e).__name__}: {e}') from None
    finally:
        root.removeHandler(capture)

    if isinstance(user.get("exec"), dict) and not cfg.api_key.get("BearerToken") and not cfg.cert_file:
        cmd = user["exec"].get("command", "?")
        said = "; ".join(capture.messages) or "it returned no token or client certificate"
        raise ClusterError(f'the credential plugin "{cmd}" of context "{ctx_name}" failed: {said}')
    ns = namespace or str(ctx.get("namespace") or "") or "default"
    target = Target(ctx_name, cfg.host, ns, "kubeconfig " + os.pathsep.join(existing))
    return Connection(cfg, target, proxy_url=str(cluster.get("proxy-url") or ""), may_prompt=prompting)


def _in_cluster(namespace: str | None) -> Connection:
    from kubernetes.client import Configuration
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.incluster_config import InClusterConfigLoader

    cfg = Configuration()
    try:
        # The token file is re-read when it rotates (the loader's refresh hook).
        InClusterConfigLoader(token_filename=os.path.join(SA_DIR, "token"), cert_filename=os.path.join(SA_DIR, "ca.crt"),
                              try_refresh_token=True).load_and_set(cfg)
    except ConfigException as e:
        raise ClusterError(f"cannot use the in-cluster service account: {e}") from None
    ns = namespace or os.environ.get("POD_NAMESPACE", "")
    if not ns:
        try:
            with open(os.path.join(SA_DIR, "namespace"), encoding="utf-8") as f:
                ns = f.read().strip()
        except OSError:
            ns = ""
    return Connection(cfg, Target("", cfg.host, ns or "default", "in-cluster service account"))


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


# --------------------------------------------------------------------------- reads


def pod_path(namespace: str, name: str = "") -> str:
    base = f"/api/v1/namespaces/{quote(namespace, safe='')}/pods"
    return f"{base}/{quote(name, safe='')}" if name else base


def events_path(namespace: str) -> str:
    return f"/api/v1/namespaces/{quote(namespace, safe='')}/events"


def get_pod(client: Client, namespace: str, name: str) -> dict:
    return client.get(pod_path(namespace, name))


def pod_events(client: Client, pod: dict) -> list[dict]:
    """The pod's events: one list with a field selector (uid, else name)."""
    meta = pod.get("metadata") or {}
    uid, name, ns = meta.get("uid"), meta.get("name", ""), meta.get("namespace", "default")
    selector = f"involvedObject.uid={uid}" if uid else f"involvedObject.name={name},involvedObject.kind=Pod"
    return list(client.list(events_path(ns), {"fieldSelector": selector}))


def namespace_pods(client: Client, namespace: str) -> list[dict]:
    return list(client.list(pod_path(namespace)))


def namespace_pod_events(client: Client, namespace: str) -> list[dict]:
    return list(client.list(events_path(namespace), {"fieldSelector": "involvedObject.kind=Pod"}))


def _pods_query(namespace: str | None, label_selector: str | None, field_selector: str | None) -> tuple[str, dict]:
    params = {}
    if label_selector:
        params["labelSelector"] = label_selector
    if field_selector:
        params["fieldSelector"] = field_selector
    return (pod_path(namespace) if namespace else "/api/v1/pods"), params


def list_pods(client: Client, namespace: str | None, *, label_selector: str | None = None,
              field_selector: str | None = None, warn: Callable[[str], None] | None = None) -> Iterator[dict]:
    """Pods of a namespace (None: all namespaces), page by page."""
    path, params = _pods_query(namespace, label_selector, field_selector)
    return client.list(path, params, warn=warn)


def start_list_pods(client: Client, namespace: str | None, *, label_selector: str | None = None,
                    field_selector: str | None = None) -> None:
    """Ask for the first page of list_pods() with the same arguments now, in the background."""
    path, params = _pods_query(namespace, label_selector, field_selector)
    client.start_list(path, params)


def list_pod_events(client: Client, namespace: str | None, *, warn: Callable[[str], None] | None = None) -> Iterator[dict]:
    """Events about pods in a namespace (None: all namespaces), page by page."""
    path = events_path(namespace) if namespace else "/api/v1/events"
    return client.list(path, {"fieldSelector": "involvedObject.kind=Pod"}, warn=warn)


LOG_LIMIT_BYTES = 2 * 1024 * 1024  # a log read never downloads more (200 lines of long JSON records fit)


def previous_logs(client: Client, namespace: str, name: str, container: str, lines: int, previous: bool) -> list[str]:
    params = {"container": container, "tailLines": str(lines), "limitBytes": str(LOG_LIMIT_BYTES)}
    if previous:
        params["previous"] = "true"
    text = client.text(pod_path(namespace, name) + "/log", params)
    return text.splitlines()[-lines:] if lines else []


def not_found(namespace: str, name: str, candidates: list[str]) -> InputError:
    import difflib

    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return InputError(f'pod "{name}" not found in namespace "{namespace}"{hint}')


# --------------------------------------------------------------------------- workloads

WORKLOAD_RESOURCES = {  # kind -> (API group path, plural)
    "Deployment": ("/apis/apps/v1", "deployments"),
    "ReplicaSet": ("/apis/apps/v1", "replicasets"),
    "StatefulSet": ("/apis/apps/v1", "statefulsets"),
    "DaemonSet": ("/apis/apps/v1", "daemonsets"),
    "Job": ("/apis/batch/v1", "jobs"),
    "CronJob": ("/apis/batch/v1", "cronjobs"),
}


def workload_path(kind: str, namespace: str | None, name: str = "") -> str:
    group, plural = WORKLOAD_RESOURCES[kind]
    base = f"{group}/namespaces/{quote(namespace, safe='')}/{plural}" if namespace else f"{group}/{plural}"
    return f"{base}/{quote(name, safe='')}" if name else base


def get_workload(client: Client, kind: str, namespace: str, name: str) -> dict:
    obj = client.get(workload_path(kind, namespace, name))
    obj.setdefault("kind", kind)  # a GET answers with its kind; be sure
    return obj


def list_workloads(client: Client, kind: str, namespace: str | None, *, label_selector: str | None = None,
                   warn: Callable[[str], None] | None = None) -> Iterator[dict]:
    """A workload kind's objects in a namespace (None: all), page by page, kinds filled in
    (list items from the API server carry none)."""
    params = {"labelSelector": label_selector} if label_selector else {}
    for item in client.list(workload_path(kind, namespace), params, warn=warn):
        item.setdefault("kind", kind)
        yield item


def selector_string(selector: dict | None) -> str | None:
    """A LabelSelector (matchLabels, matchExpressions) in the API's query syntax; None when
    it selects nothing expressible (no selector)."""
    if not isinstance(selector, dict):
        return None
    terms = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for e in selector.get("matchExpressions") or []:
        if not isinstance(e, dict):
            continue
        key, op, values = e.get("key", ""), e.get("operator", ""), ",".join(e.get("values") or [])
        terms.append({"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": key,
                      "DoesNotExist": f"!{key}"}.get(op, ""))
    terms = [t for t in terms if t]
    return ",".join(terms) or None


def namespace_events(client: Client, namespace: str, *, field_selector: str | None = None) -> list[dict]:
    """Every event of a namespace (the workload's, its ReplicaSets' and its pods'): one list."""
    return list(client.list(events_path(namespace), {"fieldSelector": field_selector} if field_selector else {}))


def list_failed_creates(client: Client, namespace: str | None, *, warn: Callable[[str], None] | None = None) -> Iterator[dict]:
    """The controllers' FailedCreate events (pods they could not create): a small list."""
    path = events_path(namespace) if namespace else "/api/v1/events"
    return client.list(path, {"fieldSelector": "reason=FailedCreate"}, warn=warn)
