"""Loading the configuration: the only module that imports the kubernetes package.

The kubernetes package loads the configuration (kubeconfig files and contexts, exec and
auth-provider credential plugins, the in-cluster service account), imported without its
API models (`_light_kubernetes`). `connect()` gives a `Connection`: that Configuration and
the `Target` it points at, in the words error messages use. `probectl.sources.http`
sends the requests; `probectl.sources.cluster` re-exports the public names.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import types
from dataclasses import dataclass, field

from probectl.errors import ClusterError, UsageError

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


@dataclass(frozen=True)
class Target:
    """Where requests go, in the words error messages use."""

    context: str
    server: str
    namespace: str
    source: str  # "kubeconfig /home/me/.kube/config" or "in-cluster service account"

    def where(self) -> str:
        return f'context "{self.context}", server {self.server}' if self.context else f"server {self.server}"


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
