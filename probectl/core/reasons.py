"""The kubelet's and the runtimes' vocabulary: waiting-reason classes, disruption and
admission reasons, start-error texts. Data only (and start_cause, which reads a runtime's
text): every surface (why, scan, watch) takes its classes from here."""

from __future__ import annotations

import re

from probectl.core.model import Cause

# state.waiting.reason classes (kuberuntime, images/types.go)
IMAGE_PULL = frozenset({
    "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull",
    "ImageInspectError", "RegistryUnavailable", "SignatureValidationFailed", "PullImageError",
})
CONFIG = frozenset({"CreateContainerConfigError", "CreateContainerError"})
START = frozenset({"StartError", "ContainerCannotRun", "RunContainerError"})
HOOK_ERRORS = frozenset({"PostStartHookError", "PreStartHookError"})
CREATING = frozenset({"", "ContainerCreating", "PodInitializing"})
# Waiting reasons that say the container cannot be created or started from its spec: what
# watch reports as a config-error finding (RunContainerError is how containerd's StartError
# shows while the container waits).
CONFIG_WAITING = CONFIG | {"RunContainerError"}

# Warning events about the pod (volumes, sandbox, hooks) that explain a container stuck waiting.
POD_WARNINGS = frozenset({
    "FailedMount", "FailedAttachVolume", "FailedCreatePodSandBox", "FailedCreatePodContainer",
    "NetworkNotReady", "FailedKillPod", "FailedSync", "FailedPostStartHook", "FailedPreStopHook",
})
# Reasons the kubelet records about one container: an event with no fieldPath and one of these
# belongs to the pod's only container.
CONTAINER_REASONS = frozenset({"Killing", "BackOff", "Failed", "Pulling", "Pulled", "Created", "Started", "Unhealthy",
                               "ErrImageNeverPull", "InspectFailed", "ProbeWarning"})
# Probe results come as Unhealthy events; pasted or reconstructed ones may have no reason.
PROBE_RESULT_REASONS = ("Unhealthy", "")

# The status manager's stand-in for a container it could not find when the pod was
# terminated or deleted (exit 137, no times): not a kill of its own (kubelet-facts §5).
PLACEHOLDER = "ContainerStatusUnknown"

# DisruptionTarget condition reasons (k8s.io/api core/v1 types.go, kubelet-facts §6).
DISRUPTION = {
    "PreemptionByScheduler": ("preempted", "the scheduler preempted it to make room for a higher-priority pod"),
    "DeletionByTaintManager": ("deleted by the taint manager",
                               "its node got a NoExecute taint (not ready, unreachable) that the pod does not tolerate"),
    "EvictionByEvictionAPI": ("evicted through the Eviction API",
                              "kubectl drain, the cluster autoscaler or a descheduler evicted it (a graceful deletion)"),
    "DeletionByPodGC": ("deleted by the pod garbage collector", "its node is gone, or it was orphaned"),
}
# nodeshutdown_manager.go: 1.21 "Node is shutting, evicting pods" (reason Shutdown), later
# "Pod was terminated in response to imminent node shutdown." (reason Terminated).
SHUTDOWN = re.compile(r"node shutdown|node is shutting", re.I)
# Pods the kubelet refused at admission (lifecycle/predicate.go: OutOfcpu, OutOfmemory, ...).
REJECTED = re.compile(r"OutOf\w+|NodeAffinity|NodePorts|NodeName|TopologyAffinityError|UnexpectedAdmissionError")

# What the runtime's start error says. runc: `exec: "gunicorn": executable file not found
# in $PATH`, `exec: "/app/bin/server": stat /app/bin/server: no such file or directory`
# (CRI-O, older runc), `exec /app/server: no such file or directory` (runc 1.1+, also a
# script whose #! interpreter is missing), `exec: "/app/run.sh": permission denied`,
# `exec /app/server: exec format error` (an image built for another CPU). Mount, chdir and
# cgroup failures also say "no such file or directory" or "permission denied": start-error.
EXEC_NOT_FOUND = re.compile(
    r'executable file not found|not found in \$PATH|\bexec(?:: "[^"]*": stat [^:]+| [^\s:"]+): no such file or directory',
    re.I)
EXEC_DENIED = re.compile(r'\bexec(?:: "[^"]*"| [^\s:"]+): permission denied', re.I)
EXEC_FORMAT = re.compile(r"exec format error", re.I)
_NOT_MAIN_PROCESS = re.compile(r"mount|rootfs|chdir|volume|subpath|cgroup|seccomp|apparmor|device", re.I)
_NO_SUCH_FILE = re.compile(r"no such file or directory", re.I)
_PERMISSION = re.compile(r"permission denied", re.I)
# containerd after a slow create: the runtime's trouble, not the spec's (kubelet-facts §4)
RUNTIME_TROUBLE = re.compile(r"failed to reserve container name|context deadline exceeded", re.I)
BACKOFF = re.compile(r"back-off (\S+) restarting failed container")
MISSING_REF = re.compile(r'(configmap|secret) "([^"]+)" not found|couldn\'t find key (\S+) in (ConfigMap|Secret) (\S+)', re.I)


def start_cause(text: str) -> Cause | None:
    """command-not-found / permission-denied / start-error read from a runtime's start
    error text; None when the text says nothing specific."""
    if not text:
        return None
    if EXEC_NOT_FOUND.search(text):
        return Cause.COMMAND_NOT_FOUND
    if EXEC_DENIED.search(text):
        return Cause.PERMISSION_DENIED
    if EXEC_FORMAT.search(text):
        return Cause.START_ERROR
    if _NOT_MAIN_PROCESS.search(text):
        return None
    if _NO_SUCH_FILE.search(text):
        return Cause.COMMAND_NOT_FOUND
    if _PERMISSION.search(text):
        return Cause.PERMISSION_DENIED
    return None
