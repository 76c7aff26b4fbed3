"""`probectl why` against an API server faked at the HTTP layer (responses), with real
kubeconfig files: tokens, client certificates, insecure clusters, several files in
KUBECONFIG, namespaces from the context, exec plugins, and the failures users meet."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses

from tests.kube import SERVER, b64, exec_plugin, exec_user, isolate_env, kubeconfig
from tests.scenarios import BY_NAME

OOM = BY_NAME["oom_killed_crashloop"]
LIVE = BY_NAME["liveness_exit_143"]
POD = OOM.pod["metadata"]["name"]
UID = OOM.pod["metadata"]["uid"]
POD_URL = f"{SERVER}/api/v1/namespaces/shop/pods/{POD}"
EVENTS_URL = f"{SERVER}/api/v1/namespaces/shop/events"
PODS_URL = f"{SERVER}/api/v1/namespaces/shop/pods"


def event_list(items, cont=""):
    return {"kind": "EventList", "apiVersion": "v1", "metadata": {"resourceVersion": "123", "continue": cont}, "items": items}


def api_items(objs):
    """List items as the API server returns them: no kind, no apiVersion."""
    out = []
    for o in objs:
        o = json.loads(json.dumps(o))
        o.pop("kind", None)
        o.pop("apiVersion", None)
        out.append(o)
    return out


@pytest.fixture
def home(tmp_path, monkeypatch):
    isolate_env(monkeypatch, tmp_path / "home")
    monkeypatch.setenv("NO_COLOR", "1")
    return tmp_path / "home"


@pytest.fixture
def kcfg(home, monkeypatch):
    path = kubeconfig(home / "config")
    monkeypatch.setenv("KUBECONFIG", str(path))
    return path


@pytest.fixture
def no_sleep(monkeypatch):
    slept = []
    monkeypatch.setattr("probectl.sources.http.time.sleep", lambda s: slept.append(s))
    return slept


def mock_pod_and_events(rsps, pod=OOM.pod, events=OOM.events):
    rsps.get(POD_URL, json=pod)
    rsps.get(EVENTS_URL, json=event_list(api_items(events)))


@responses.activate
def test_two_requests_token_namespace_from_context(cli, kcfg):
    mock_pod_and_events(responses)
    status, out, err = cli("why", POD, "-o", "json")
    assert status == 1, err
    assert json.loads(out)["cause"] == "oom-killed"
    assert len(responses.calls) == 2
    pod_req, ev_req = responses.calls[0].request, responses.calls[1].request
    assert pod_req.headers["Authorization"] == "Bearer t0ken-prod"
    assert ev_req.headers["Authorization"] == "Bearer t0ken-prod"
    q = parse_qs(urlparse(ev_req.url).query)
    assert q["fieldSelector"] == [f"involvedObject.uid={UID}"]
    assert q["limit"] == ["500"]
    assert "gzip" in pod_req.headers.get("Accept-Encoding", "")


@responses.activate
def test_logs_add_one_request_per_troubled_container(cli, kcfg):
    mock_pod_and_events(responses)
    responses.get(f"{POD_URL}/log", body="starting\nallocating cache\n\x1b]8;;https://evil\x1b\\boom\n")
    status, out, _ = cli("why", POD, "--logs", "20")
    assert status == 1
    assert len(responses.calls) == 3
    q = parse_qs(urlparse(responses.calls[2].request.url).query)
    assert q == {"container": ["api"], "tailLines": ["20"], "previous": ["true"], "limitBytes": [str(2 * 1024 * 1024)]}
    assert "Logs of api (previous instance, last 3 lines)" in out
    assert "allocating cache" in out and "\x1b" not in out


@responses.activate
def test_namespace_flag_overrides_context(cli, kcfg):
    responses.get(f"{SERVER}/api/v1/namespaces/other/pods/{POD}", json=OOM.pod | {"metadata": OOM.pod["metadata"] | {"namespace": "other"}})
    responses.get(f"{SERVER}/api/v1/namespaces/other/events", json=event_list([]))
    assert cli("why", POD, "-n", "other")[0] == 1


@responses.activate
def test_default_namespace_when_context_has_none(cli, home, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig(home / "config", namespace=None)))
    responses.get(f"{SERVER}/api/v1/namespaces/default/pods/{POD}", json=OOM.pod | {"metadata": OOM.pod["metadata"] | {"namespace": "default"}})
    responses.get(f"{SERVER}/api/v1/namespaces/default/events", json=event_list([]))
    status, _, err = cli("why", POD)
    assert status == 1, err
    assert "/namespaces/default/" in responses.calls[0].request.url


@responses.activate
def test_kubeconfig_flag_and_context_flag(cli, home):
    path = kubeconfig(home / "other.yaml", context="staging", cluster="stg", user="stg-user", current=False,
                      token="t0ken-staging", server="https://stg.example.test")
    responses.get(f"https://stg.example.test/api/v1/namespaces/shop/pods/{POD}", json=OOM.pod)
    responses.get("https://stg.example.test/api/v1/namespaces/shop/events", json=event_list([]))
    status, _, err = cli("why", POD, "--kubeconfig", str(path), "--context", "staging")
    assert status == 1, err
    assert responses.calls[0].request.headers["Authorization"] == "Bearer t0ken-staging"


@responses.activate
def test_several_files_in_kubeconfig_first_current_context_wins(cli, home, monkeypatch):
    first = kubeconfig(home / "a.yaml", context="alpha", cluster="a", user="a", token="t0ken-alpha", server="https://a.example.test")
    second = kubeconfig(home / "b.yaml", context="beta", cluster="b", user="b", token="t0ken-beta", server="https://b.example.test")
    monkeypatch.setenv("KUBECONFIG", f"{first}:{home / 'missing.yaml'}:{second}")
    responses.get(f"https://a.example.test/api/v1/namespaces/shop/pods/{POD}", json=OOM.pod)
    responses.get("https://a.example.test/api/v1/namespaces/shop/events", json=event_list([]))
    status, _, err = cli("why", POD)
    assert status == 1, err
    assert responses.calls[0].request.headers["Authorization"] == "Bearer t0ken-alpha"
    # and a context from the second file is reachable by name
    responses.get(f"https://b.example.test/api/v1/namespaces/shop/pods/{POD}", json=OOM.pod)
    responses.get("https://b.example.test/api/v1/namespaces/shop/events", json=event_list([]))
    assert cli("why", POD, "--context", "beta")[0] == 1
    assert responses.calls[-1].request.headers["Authorization"] == "Bearer t0ken-beta"


@responses.activate
def test_client_certificate_and_ca_are_passed_on_every_call(cli, home, monkeypatch, tls):
    user = {"client-certificate-data": b64(tls["client_cert"]), "client-key-data": b64(tls["client_key"])}
    path = kubeconfig(home / "config", user_entry=user, ca_pem=tls["ca"], token=None)
    monkeypatch.setenv("KUBECONFIG", str(path))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")  # must not replace the cluster's CA
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.test:3128")
    monkeypatch.setenv("NO_PROXY", "k8s.example.test")
    mock_pod_and_events(responses)
    status, _, err = cli("why", POD)
    assert status == 1, err
    for call in responses.calls:
        kw = call.request.req_kwargs
        assert isinstance(kw["verify"], str) and open(kw["verify"], "rb").read() == tls["ca"]
        cert, key = kw["cert"]
        assert open(cert, "rb").read() == tls["client_cert"] and open(key, "rb").read() == tls["client_key"]
        assert kw["proxies"] == {} or not any(kw["proxies"].values())  # NO_PROXY honoured
        assert "Authorization" not in call.request.headers


@responses.activate
def test_environment_proxy_is_used_like_kubectl(cli, kcfg, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.test:3128")
    mock_pod_and_events(responses)
    assert cli("why", POD)[0] == 1
    assert responses.calls[0].request.req_kwargs["proxies"]["https"] == "http://proxy.example.test:3128"


@responses.activate
def test_proxy_url_and_insecure_from_kubeconfig(cli, home, monkeypatch):
    path = kubeconfig(home / "config", cluster_extra={"insecure-skip-tls-verify": True, "proxy-url": "http://corp-proxy.example.test:8080"})
    monkeypatch.setenv("KUBECONFIG", str(path))
    mock_pod_and_events(responses)
    assert cli("why", POD)[0] == 1
    kw = responses.calls[0].request.req_kwargs
    assert kw["verify"] is False
    assert kw["proxies"] == {"http": "http://corp-proxy.example.test:8080", "https": "http://corp-proxy.example.test:8080"}


def test_tls_server_name_mounts_an_sni_adapter(home, monkeypatch):
    from probectl.sources import cluster as cl

    path = kubeconfig(home / "config", cluster_extra={"tls-server-name": "kubernetes.default.svc"})
    conn = cl.connect(str(path))
    adapter = cl.Client(conn).session.get_adapter("https://k8s.example.test:6443")
    assert type(adapter).__name__ == "SNIAdapter"
    assert adapter.poolmanager.connection_pool_kw["server_hostname"] == "kubernetes.default.svc"


@responses.activate
def test_exec_plugin_token(cli, home, monkeypatch):
    plugin = exec_plugin(home / "get-token", token="t0ken-from-exec")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig(home / "config", user_entry=exec_user(plugin))))
    mock_pod_and_events(responses)
    status, _, err = cli("why", POD)
    assert status == 1, err
    assert responses.calls[0].request.headers["Authorization"] == "Bearer t0ken-from-exec"


def test_exec_plugin_failure_is_named(cli, home, monkeypatch):
    plugin = exec_plugin(home / "get-token", fail="error: SSO session expired, run: cloud login")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig(home / "config", user_entry=exec_user(plugin))))
    status, out, err = cli("why", POD)
    assert status == 3 and out == ""
    assert "credential plugin" in err and "SSO session expired" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "setup,fragment,code",
    [
        ("unknown-context", 'context "nope" does not exist', 3),
        ("missing-file", "--kubeconfig", 2),
        ("empty", "is empty", 3),
        ("malformed", "not valid YAML", 3),
        ("not-a-mapping", "is not a kubeconfig", 3),
        ("no-current-context", "no current context", 3),
        ("no-kubeconfig", "no kubeconfig found", 3),
    ],
)
def test_configuration_errors(cli, home, monkeypatch, setup, fragment, code):
    args = ["why", POD]
    path = home / "config"
    if setup == "unknown-context":
        kubeconfig(path)
        args += ["--context", "nope"]
    elif setup == "missing-file":
        args += ["--kubeconfig", str(home / "nope.yaml")]
    elif setup == "empty":
        path.write_text("")
    elif setup == "malformed":
        path.write_text("apiVersion: v1\nclusters: [\n")
    elif setup == "not-a-mapping":
        path.write_text("- just\n- a list\n")
    elif setup == "no-current-context":
        kubeconfig(path, current=False)
    if setup != "no-kubeconfig":
        monkeypatch.setenv("KUBECONFIG", str(path))
    status, out, err = cli(*args)
    assert status == code, err
    assert out == "" and fragment in err and err.count("\n") == 1 and "Traceback" not in err


@responses.activate
def test_401_says_log_in_again(cli, kcfg):
    responses.get(POD_URL, status=401, json={"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                              "message": "Unauthorized", "reason": "Unauthorized", "code": 401})
    status, out, err = cli("why", POD)
    assert status == 3 and out == ""
    assert 'context "prod"' in err and "https://k8s.example.test:6443" in err and "log in again" in err


@responses.activate
def test_403_on_events_gives_a_verdict_with_a_warning(cli, kcfg):
    responses.get(POD_URL, json=LIVE.pod | {"metadata": LIVE.pod["metadata"] | {"name": POD}})
    responses.get(EVENTS_URL, status=403, json={
        "kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden", "code": 403,
        "message": 'events is forbidden: User "system:serviceaccount:ci:probectl" cannot list resource "events" in API group "" in the namespace "shop"'})
    status, out, err = cli("why", POD, "-o", "json")
    assert status == 1, err
    doc = json.loads(out)
    # without events the liveness kill is invisible: a lower-confidence verdict, said so. (Judged
    # on this machine's clock, the fixture's restart is days old: the container's trouble now is
    # that it is not ready, and nothing visible says why.)
    assert doc["cause"] == "readiness-probe-failed" and doc["confidence"] == "low"
    assert doc["containers"][0]["lastRestart"]["cause"] == "terminated"
    assert any("Events could not be read" in w and "forbidden" in w for w in doc["warnings"])


@responses.activate
def test_403_on_logs_is_shown_not_fatal(cli, kcfg):
    mock_pod_and_events(responses)
    responses.get(f"{POD_URL}/log", status=403, json={"kind": "Status", "code": 403, "message": 'pods "x" is forbidden: cannot get resource "pods/log"'})
    status, out, _ = cli("why", POD, "--logs", "5")
    assert status == 1
    assert "logs could not be read: forbidden" in out


@responses.activate
def test_403_on_the_pod_is_a_cluster_error(cli, kcfg):
    responses.get(POD_URL, status=403, json={"kind": "Status", "code": 403, "message": 'pods "web" is forbidden'})
    status, out, err = cli("why", POD)
    assert status == 3 and out == "" and "forbidden" in err


@responses.activate
def test_deployment_name_diagnoses_its_pods(cli, kcfg):
    responses.get(f"{PODS_URL}/web", status=404, json={"kind": "Status", "code": 404, "reason": "NotFound", "message": 'pods "web" not found'})
    other = BY_NAME["healthy_running"].pod
    unrelated = BY_NAME["readiness_failing"].pod  # cart-..., another Deployment
    responses.get(PODS_URL, json={"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "9"},
                                  "items": api_items([OOM.pod, other, unrelated])})
    responses.get(EVENTS_URL, json=event_list(api_items(OOM.events)))
    status, out, err = cli("why", "web", "-o", "json")
    assert status == 1, err
    doc = json.loads(out)
    assert doc["kind"] == "List"
    assert sorted(i["pod"]["name"] for i in doc["items"]) == sorted([POD, other["metadata"]["name"]])
    assert all("Deployment web" in i["warnings"][0] for i in doc["items"])
    assert len(responses.calls) == 3  # the 404, one pod list, one event list: never one per pod
    assert parse_qs(urlparse(responses.calls[2].request.url).query)["fieldSelector"] == ["involvedObject.kind=Pod"]
    status, out, _ = cli("why", "web")
    assert "2 pods" in out and "The most troubled pod in full: " + POD in out


@responses.activate
def test_unknown_pod_offers_close_names(cli, kcfg):
    responses.get(f"{PODS_URL}/web-7f9c6d8b5-x2lqq", status=404, json={"kind": "Status", "code": 404, "message": "not found"})
    responses.get(PODS_URL, json={"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": api_items([OOM.pod])})
    status, out, err = cli("why", "web-7f9c6d8b5-x2lqq")
    assert status == 2 and out == ""
    assert 'pod "web-7f9c6d8b5-x2lqq" not found in namespace "shop"; did you mean web-7f9c6d8b5-x2lqz?' in err


@responses.activate
def test_events_are_paged(cli, kcfg):
    responses.get(POD_URL, json=OOM.pod)
    half = len(OOM.events) // 2
    responses.get(EVENTS_URL, json=event_list(api_items(OOM.events[:half]), cont="tok1"),
                  match=[responses.matchers.query_param_matcher({"fieldSelector": f"involvedObject.uid={UID}", "limit": "500"})])
    responses.get(EVENTS_URL, json=event_list(api_items(OOM.events[half:])),
                  match=[responses.matchers.query_param_matcher({"fieldSelector": f"involvedObject.uid={UID}", "limit": "500", "continue": "tok1"})])
    status, out, _ = cli("why", POD, "-o", "json")
    assert status == 1 and len(responses.calls) == 3
    assert sum(e["count"] for e in json.loads(out)["events"]) == sum(e["count"] for e in OOM.events)


@responses.activate
def test_429_is_retried_after_retry_after(cli, kcfg, no_sleep):
    responses.get(POD_URL, status=429, body="Too many requests, please try again later.\n", headers={"Retry-After": "1"},
                  content_type="text/plain")
    responses.get(POD_URL, json=OOM.pod)
    responses.get(EVENTS_URL, json=event_list([]))
    assert cli("why", POD)[0] == 1
    assert no_sleep == [1.0]


@responses.activate
def test_5xx_retried_then_a_clear_error(cli, kcfg, no_sleep):
    for _ in range(4):
        responses.get(POD_URL, status=503, body="<html><body><h1>503 Service Unavailable</h1>No server is available</body></html>",
                      content_type="text/html")
    status, out, err = cli("why", POD)
    assert status == 3 and out == ""
    assert "503" in err and "after 4 attempts" in err and "<html>" not in err
    assert len(responses.calls) == 4 and len(no_sleep) == 3


@pytest.mark.parametrize(
    "exc,fragment",
    [
        (requests.exceptions.ConnectionError("HTTPSConnectionPool(host='k8s.example.test', port=6443): Max retries exceeded "
                                             "(Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object>: "
                                             "Failed to establish a new connection: [Errno 111] Connection refused'))"), "connection refused"),
        (requests.exceptions.ConnectionError("Caused by NameResolutionError(\"Failed to resolve 'k8s.example.test' "
                                             "([Errno -2] Name or service not known)\")"), "does not resolve"),
        (requests.exceptions.SSLError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate in certificate chain (_ssl.c:1006)"),
         "TLS verification failed"),
        (requests.exceptions.ReadTimeout("read timed out"), "did not answer within 30s"),
        (requests.exceptions.ConnectTimeout("connect timed out"), "timed out connecting"),
        (requests.exceptions.ProxyError("Unable to connect to proxy"), "proxy"),
    ],
)
def test_network_failures_are_one_line_exit_3(cli, kcfg, exc, fragment):
    with responses.RequestsMock() as rsps:
        rsps.get(POD_URL, body=exc)
        status, out, err = cli("why", POD)
    assert status == 3 and out == ""
    assert fragment in err and 'context "prod"' in err and err.count("\n") == 1


@responses.activate
def test_non_json_body(cli, kcfg):
    responses.get(POD_URL, body="<html>login page</html>", content_type="text/html")
    status, _, err = cli("why", POD)
    assert status == 3 and "not JSON" in err


@responses.activate
def test_request_timeout_flag(cli, kcfg):
    mock_pod_and_events(responses)
    assert cli("why", POD, "--request-timeout", "5s")[0] == 1
    assert responses.calls[0].request.req_kwargs["timeout"] == 5.0
    assert cli("why", POD, "--request-timeout", "bogus")[0] == 2


def test_in_cluster_service_account(home, monkeypatch, tmp_path):
    from probectl.sources import cluster as cl
    from probectl.sources import kubeconfig as kubeconfig_module

    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text("t0ken-sa")
    (sa / "namespace").write_text("ci")
    (sa / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    monkeypatch.setattr(kubeconfig_module, "SA_DIR", str(sa))  # read where it lives
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    conn = cl.connect()
    assert conn.target.namespace == "ci" and conn.target.server == "https://10.96.0.1:443"
    assert cl.Client(conn)._headers()["Authorization"].lower() == "bearer t0ken-sa"
    monkeypatch.setenv("POD_NAMESPACE", "from-env")
    assert cl.connect().target.namespace == "from-env"


# ----------------------------------------------------------------- the crash line from logs (read by default)

APP = BY_NAME["app_error_exit_1"]


def _as_pod_url(p: dict) -> dict:
    """The scenario's pod under POD's name, its termination message left out (no crash
    line there: the log is where to look)."""
    import copy

    p = copy.deepcopy(p) | {"metadata": p["metadata"] | {"name": POD, "uid": UID}}
    p["status"]["containerStatuses"][0]["lastState"]["terminated"].pop("message", None)
    return p


@responses.activate
def test_app_error_reads_its_previous_log_once_by_default(cli, kcfg):
    responses.get(POD_URL, json=_as_pod_url(APP.pod))
    responses.get(EVENTS_URL, json=event_list([]))
    responses.get(f"{POD_URL}/log", body='Traceback (most recent call last):\n  File "/app/main.py", line 9, in <module>\n'
                                         '    connect()\nConnectionRefusedError: [Errno 111] Connection refused\n')
    status, out, err = cli("why", POD, "-o", "json")
    assert status == 1, err
    assert len(responses.calls) == 3  # the pod, its events, one log
    q = parse_qs(urlparse(responses.calls[2].request.url).query)
    assert q["previous"] == ["true"] and q["tailLines"] == ["200"]
    crash = json.loads(out)["containers"][0]["crash"]
    assert crash == {"kind": "connection-refused", "line": "ConnectionRefusedError: [Errno 111] Connection refused",
                     "source": "previous-logs"}


@responses.activate
def test_no_logs_makes_no_log_request_and_oom_needs_none(cli, kcfg):
    responses.get(POD_URL, json=_as_pod_url(APP.pod))
    responses.get(EVENTS_URL, json=event_list([]))
    assert cli("why", POD, "--no-logs")[0] == 1 and len(responses.calls) == 2
    responses.calls.reset()
    responses.replace(responses.GET, POD_URL, json=OOM.pod)
    assert cli("why", POD)[0] == 1 and len(responses.calls) == 2  # OOM-killed: nothing to read unless asked
    assert cli("why", POD, "--logs", "3", "--no-logs")[0] == 2


@pytest.mark.parametrize("code,body,said", [
    (403, {"kind": "Status", "code": 403, "reason": "Forbidden", "message": 'pods "x" is forbidden: cannot get resource "pods/log"'},
     "forbidden"),
    (400, {"kind": "Status", "code": 400, "reason": "BadRequest",
           "message": 'previous terminated container "api" in pod "x" not found'}, "not found"),
])
@responses.activate
def test_unreadable_log_is_a_warning_not_a_failure(cli, kcfg, code, body, said):
    responses.get(POD_URL, json=_as_pod_url(APP.pod))
    responses.get(EVENTS_URL, json=event_list([]))
    responses.get(f"{POD_URL}/log", status=code, json=body)
    status, out, err = cli("why", POD, "-o", "json")
    assert status == 1, err
    doc = json.loads(out)
    assert doc["cause"] == "app-error" and doc["containers"][0]["crash"] is None
    assert any("could not be read" in w and said in w for w in doc["warnings"])
