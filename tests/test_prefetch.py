"""Lists ask for their next page while the current one is parsed; the parsed token decides."""

from __future__ import annotations

import json

import pytest
import responses

from probectl.sources import cluster as cl
from tests.kube import SERVER, isolate_env, kubeconfig

URL = f"{SERVER}/api/v1/namespaces/shop/pods"


@pytest.fixture
def client(tmp_path, monkeypatch):
    isolate_env(monkeypatch, tmp_path / "home")
    conn = cl.connect(str(kubeconfig(tmp_path / "config")), None, None)
    return cl.Client(conn, 5)


def _pods(names):
    return [{"metadata": {"name": n, "namespace": "shop", "uid": f"uid-{n}"}} for n in names]


def _body(items, cont, *, meta_last=False):
    meta = {"resourceVersion": "9", "continue": cont}
    doc = {"kind": "PodList", "apiVersion": "v1", "items": items, "metadata": meta} if meta_last else \
          {"kind": "PodList", "apiVersion": "v1", "metadata": meta, "items": items}
    return json.dumps(doc)


def _register(pages, *, meta_last=False):
    for n, names in enumerate(pages):
        params = {"limit": "500"} | ({"continue": f"c{n}"} if n else {})
        cont = f"c{n + 1}" if n + 1 < len(pages) else ""
        responses.get(URL, body=_body(_pods(names), cont, meta_last=meta_last),
                      match=[responses.matchers.query_param_matcher(params)])


def test_peek_continue_reads_the_head_of_an_api_server_page():
    assert cl._peek_continue(_body([], "tok").encode()) == "tok"
    assert cl._peek_continue(_body([], "").encode()) is None  # the last page
    assert cl._peek_continue(_body([], "tok", meta_last=True).encode()) is None  # metadata after items: unknown
    assert cl._peek_continue(b'{"kind": "PodList", "metadata": {"continue": "a"items": []}') is None
    assert cl._peek_continue(b"not json at all") is None


@responses.activate
@pytest.mark.parametrize("meta_last", [False, True])
def test_every_item_once_in_order_one_request_a_page(client, meta_last):
    pages = [[f"p{i}-{j}" for j in range(3)] for i in range(4)]
    _register(pages, meta_last=meta_last)
    got = [p["metadata"]["name"] for p in client.list("/api/v1/namespaces/shop/pods")]
    assert got == [n for page in pages for n in page]
    assert len(responses.calls) == client.requests == 4


@responses.activate
def test_a_head_that_disagrees_with_the_page_is_not_trusted(client):
    # the head says "wrong", the page itself (a later duplicate key) says "c1": c1 is asked for
    page0 = '{"kind": "PodList", "metadata": {"continue": "wrong"}, "items": [{"metadata": {"name": "a"}}], "metadata": {"continue": "c1"}}'
    responses.get(URL, body=page0, match=[responses.matchers.query_param_matcher({"limit": "500"})])
    responses.get(URL, body=_body(_pods(["b"]), ""), match=[responses.matchers.query_param_matcher({"limit": "500", "continue": "c1"})])
    responses.get(URL, body=_body(_pods(["never"]), ""),
                  match=[responses.matchers.query_param_matcher({"limit": "500", "continue": "wrong"})])
    got = [p["metadata"]["name"] for p in client.list("/api/v1/namespaces/shop/pods")]
    assert got == ["a", "b"]


@responses.activate
def test_410_on_a_prefetched_page_restarts_the_list_once(client):
    first = responses.matchers.query_param_matcher({"limit": "500"})
    responses.get(URL, body=_body(_pods(["a", "b"]), "tok"), match=[first])
    responses.get(URL, status=410, json={"kind": "Status", "code": 410, "reason": "Expired", "message": "too old"},
                  match=[responses.matchers.query_param_matcher({"limit": "500", "continue": "tok"})])
    responses.get(URL, body=_body(_pods(["a", "b", "c"]), ""), match=[first])
    warnings = []
    got = [p["metadata"]["name"] for p in client.list("/api/v1/namespaces/shop/pods", warn=warnings.append)]
    assert got == ["a", "b", "a", "b", "c"]  # callers key by uid
    assert warnings and "restarted" in warnings[0]


@responses.activate
def test_first_page_asked_for_early_is_used_once(client):
    _register([["a"], ["b"]])
    cl.start_list_pods(client, "shop")
    got = [p["metadata"]["name"] for p in cl.list_pods(client, "shop")]
    assert got == ["a", "b"] and len(responses.calls) == 2
    got = [p["metadata"]["name"] for p in cl.list_pods(client, "shop")]  # a second list asks again
    assert got == ["a", "b"] and len(responses.calls) == 4


@responses.activate
def test_a_list_left_early_closes_the_page_it_asked_for(client, monkeypatch):
    pages = [[f"p{i}"] for i in range(3)]
    _register(pages)
    closed = []
    real_close = cl._Pending.close

    def close(self):
        closed.append(self)
        real_close(self)

    monkeypatch.setattr(cl._Pending, "close", close)
    it = client.list("/api/v1/namespaces/shop/pods")
    assert next(it)["metadata"]["name"] == "p0"  # page 1 is now being asked for ahead
    it.close()  # the caller stops (an error elsewhere, Ctrl-C)
    import time

    for _ in range(100):  # the fetch thread closes it when its answer arrives
        if closed:
            break
        time.sleep(0.01)
    assert closed, "the page asked for ahead was not closed"


@responses.activate
def test_client_close_drops_first_pages_never_listed(client, monkeypatch):
    _register([["a"]])
    closed = []
    monkeypatch.setattr(cl._Pending, "close", lambda self: closed.append(self))
    cl.start_list_pods(client, "shop")
    client.close()
    import time

    for _ in range(100):
        if closed:
            break
        time.sleep(0.01)
    assert closed and client._early == {}
