"""Why the API server refused a controller's pod: the admission error a FailedCreate event
or a ReplicaFailure condition quotes, classified (quota, PodSecurity, a webhook, a missing
service account, a LimitRange), phrased, and what to run about it. Pure."""

from __future__ import annotations

import re

# Fact: the admission errors the API server returns for a pod create, which the controllers
# quote in their FailedCreate events ("Error creating: %v" in pkg/controller/controller_utils.go
# for ReplicaSets, DaemonSets and Jobs; "create Pod %s in StatefulSet %s failed error: %s" in
# pkg/controller/statefulset/stateful_pod_control.go):
# - ResourceQuota admission: "exceeded quota: %s, requested: %s, used: %s, limited: %s"
#   (staging/src/k8s.io/apiserver/pkg/admission/plugin/resourcequota/controller.go; "Exceeded
#   quota" before Kubernetes 1.9)
# - PodSecurity admission: `violates PodSecurity %q: %s` (k8s.io/pod-security-admission,
#   "pod violates PodSecurity" in its first releases)
# - webhooks: `admission webhook %q denied the request: %s` (apiserver webhook errors)
# - ServiceAccount admission: "error looking up service account %s/%s: %w" wrapping
#   `serviceaccount "NAME" not found` (plugin/pkg/admission/serviceaccount)
# - LimitRanger: "maximum cpu usage per Container is ..." / "minimum memory usage per ..."
_REFUSALS = (
    ("quota", re.compile(r"exceeded quota: ([^,\s]+)", re.I)),
    ("pod-security", re.compile(r'violates PodSecurity "([^"]+)"')),
    ("webhook", re.compile(r'admission webhook "([^"]+)" denied the request')),
    ("service-account", re.compile(r'error looking up service account [^:]*: serviceaccount "([^"]+)" not found'
                                   r'|serviceaccount "([^"]+)" not found')),
    ("limit-range", re.compile(r"(?:maximum|minimum) (?:cpu|memory|ephemeral-storage) usage per (?:Container|Pod)"
                               r"|must be less than or equal to (?:cpu|memory) limit")),
)

_REFUSAL_TEXT = {
    "quota": 'the ResourceQuota "{0}" is exceeded',
    "pod-security": 'the pod spec violates PodSecurity "{0}"',
    "webhook": 'the admission webhook "{0}" denied them',
    "service-account": 'the service account "{0}" does not exist',
    "limit-range": "a LimitRange forbids their resources",
    "other": "the API server refused them",
}


def refusal_kind(message: str) -> tuple[str, str]:
    """(quota | pod-security | webhook | service-account | limit-range | other, the name it
    names: the quota, the policy level, the webhook, the service account)."""
    for kind, pattern in _REFUSALS:
        m = pattern.search(message)
        if m:
            return kind, next((g for g in m.groups() if g), "") if m.groups() else ""
    return "other", ""


def refusal_phrase(kind: str, name: str) -> str:
    return _REFUSAL_TEXT[kind].format(name) if (name or "{0}" not in _REFUSAL_TEXT[kind]) else _REFUSAL_TEXT["other"]


def strip_prefix(message: str) -> str:
    """The admission error without the controller's wrapper ("Error creating: ")."""
    for prefix in ("Error creating: ",):
        if message.startswith(prefix):
            return message[len(prefix):]
    # "create Pod web-0 in StatefulSet web failed error: ..."; its claims: "create Claim
    # data-web-0 for Pod web-0 in StatefulSet web failed error: ..." (stateful_pod_control.go)
    m = re.match(r"create (?:Pod|Claim) \S+ (?:for Pod \S+ )?in StatefulSet \S+ failed error: (.*)", message, re.S)
    return m.group(1) if m else message



def refusal_steps(kind: str, name: str, ns: str, message: str) -> list[str]:
    if kind == "quota":
        return [f"kubectl describe resourcequota {name} -n {ns}" if name else f"kubectl describe resourcequota -n {ns}",
                "lower the pod's requests/limits, or raise the quota"]
    if kind == "pod-security":
        return [f"kubectl get namespace {ns} --show-labels   # pod-security.kubernetes.io/enforce",
                "set the securityContext fields the message names in the pod template"]
    if kind == "webhook":
        return ["kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations",
                f'read the policy behind webhook "{name}"; the message says what it wants'] if name else \
               ["kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations"]
    if kind == "service-account":
        return [f"kubectl get serviceaccount {name} -n {ns}",
                f"kubectl create serviceaccount {name} -n {ns}   # or fix spec.template.spec.serviceAccountName"]
    if kind == "limit-range":
        return [f"kubectl describe limitrange -n {ns}"]
    return []

