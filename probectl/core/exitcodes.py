"""Decode container exit codes. Pure data and functions, stdlib only.

Containers run Linux, so the signal table is Linux's, fixed here: the host's `signal`
module differs elsewhere (SIGBUS is 10 on macOS, 7 on Linux).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Linux signal numbers (x86-64, arm64 and most other architectures share them).
SIGNALS: dict[int, tuple[str, str]] = {
    1: ("SIGHUP", "hang-up: the controlling terminal closed, or a reload request"),
    2: ("SIGINT", "interrupt (Ctrl-C), or a custom STOPSIGNAL"),
    3: ("SIGQUIT", "quit with a core dump (Ctrl-\\); JVMs and Go print thread dumps"),
    4: ("SIGILL", "illegal CPU instruction: a binary built for another CPU, or corrupted code"),
    5: ("SIGTRAP", "trace/breakpoint trap: a debugger breakpoint or a compiler-inserted trap"),
    6: ("SIGABRT", "abort: the program called abort(), e.g. a failed assertion or a C++ exception nobody caught"),
    7: ("SIGBUS", "bus error: bad memory access, often a memory-mapped file or /dev/shm that ran out of space"),
    8: ("SIGFPE", "arithmetic fault: an integer division by zero or overflow"),
    9: ("SIGKILL", "killed: cannot be caught or ignored"),
    10: ("SIGUSR1", "user-defined signal 1, not handled by the program"),
    11: ("SIGSEGV", "segmentation fault: an invalid memory access"),
    12: ("SIGUSR2", "user-defined signal 2, not handled by the program"),
    13: ("SIGPIPE", "broken pipe: the program wrote to a pipe or socket nobody reads"),
    14: ("SIGALRM", "an alarm timer expired and the program did not handle it"),
    15: ("SIGTERM", "polite request to terminate"),
    16: ("SIGSTKFLT", "coprocessor stack fault (unused on modern Linux)"),
    17: ("SIGCHLD", "a child process stopped or exited (ignored by default)"),
    18: ("SIGCONT", "continue a stopped process"),
    19: ("SIGSTOP", "stop the process (cannot be caught)"),
    20: ("SIGTSTP", "stop typed at the terminal (Ctrl-Z)"),
    21: ("SIGTTIN", "background process read from the terminal"),
    22: ("SIGTTOU", "background process wrote to the terminal"),
    23: ("SIGURG", "urgent data on a socket (Go uses it for goroutine preemption)"),
    24: ("SIGXCPU", "CPU time limit (RLIMIT_CPU) exceeded"),
    25: ("SIGXFSZ", "file size limit (RLIMIT_FSIZE) exceeded"),
    26: ("SIGVTALRM", "virtual timer expired"),
    27: ("SIGPROF", "profiling timer expired"),
    28: ("SIGWINCH", "terminal window size changed (ignored by default)"),
    29: ("SIGIO", "I/O is possible on a descriptor (also SIGPOLL)"),
    30: ("SIGPWR", "power failure"),
    31: ("SIGSYS", "bad system call: usually a seccomp profile that forbids a syscall"),
}
SIGRTMIN, SIGRTMAX = 34, 64
ALIASES = {"SIGIOT": 6, "SIGPOLL": 29, "SIGCLD": 17, "SIGRTMIN": SIGRTMIN, "SIGRTMAX": SIGRTMAX}
_BY_NAME = {name: num for num, (name, _) in SIGNALS.items()} | ALIASES

# Signals a process brings on itself: a crash, not something done to it from outside.
CRASH_SIGNALS = frozenset({4, 5, 6, 7, 8, 11, 13, 24, 25, 31})

INT32_MIN, INT32_MAX, UINT32_MAX = -(2**31), 2**31 - 1, 2**32 - 1

# Category of a code: what kind of end it was. The diagnosis engine reads this.
SUCCESS, ERROR, NOT_EXECUTABLE, NOT_FOUND, RUNTIME = "success", "error", "not-executable", "not-found", "runtime"
KILL, STOP, CRASH, SIGNAL, UNKNOWN = "kill", "stop", "crash", "signal", "unknown"

RESTART_POLICIES = ("Always", "OnFailure", "Never")


@dataclass(frozen=True)
class ExitCodeInfo:
    exit_code: int
    meaning: str
    category: str
    description: str = ""
    signal: str | None = None
    signal_number: int | None = None
    kubernetes: tuple[str, ...] = ()
    restart_policy: dict[str, str] = field(default_factory=dict)
    next_steps: tuple[str, ...] = ()
    known: bool = True

    @property
    def hex(self) -> str | None:
        if 0 <= self.exit_code <= 255:
            return None
        return f"0x{self.exit_code & 0xFFFFFFFF:08X}"

    def short(self) -> str:
        """`137 (SIGKILL)`, `1`, `3221225477 (0xC0000005 STATUS_ACCESS_VIOLATION)`."""
        if self.signal:
            return f"{self.exit_code} ({self.signal})"
        if self.hex:
            return f"{self.exit_code} ({self.hex} {self.meaning})" if self.known else f"{self.exit_code} ({self.hex})"
        return str(self.exit_code)

    def to_dict(self) -> dict:
        return {
            "apiVersion": "probectl/v1",
            "kind": "ExitCode",
            "exitCode": self.exit_code,
            "signal": self.signal,
            "signalNumber": self.signal_number,
            "meaning": self.meaning,
            "category": self.category,
            "description": self.description,
            "hex": self.hex,
            "known": self.known,
            "kubernetes": list(self.kubernetes),
            "restartPolicy": dict(self.restart_policy),
            "nextSteps": list(self.next_steps),
        }


class ExitCodeError(ValueError):
    """The text is neither an exit code nor a signal name."""


_LOGS = "kubectl logs POD -n NAMESPACE -c CONTAINER --previous"
_DESCRIBE = "kubectl describe pod POD -n NAMESPACE"
_EVENTS = "kubectl get events -n NAMESPACE --field-selector involvedObject.name=POD --sort-by=.lastTimestamp"
_REASON = (
    "kubectl get pod POD -n NAMESPACE -o jsonpath="
    "'{range .status.containerStatuses[*]}{.name}{\"\\t\"}{.lastState.terminated.reason}{\"\\n\"}{end}'"
)
_WHY = "probectl why POD -n NAMESPACE"


def _restart(code: int) -> dict[str, str]:
    backoff = "back-off of 10s, doubling up to 5m (CrashLoopBackOff), reset after 10m of running"
    if code == 0:
        return {
            "Always": "restarted anyway: a container that exits 0 under Always is a one-shot program run as a long-lived workload, and ends in CrashLoopBackOff",
            "OnFailure": "not restarted: the container is done (Completed); the pod succeeds when all its containers did",
            "Never": "not restarted: the container is done (Completed); the pod succeeds when all its containers did",
        }
    return {
        "Always": f"restarted in place with a {backoff}",
        "OnFailure": f"restarted in place with a {backoff}; a Job counts it towards backoffLimit only when the pod fails",
        "Never": "not restarted: the pod's phase becomes Failed once all its containers have stopped (a Job then creates a new pod, up to backoffLimit)",
    }


_COMMON_STEPS = (_WHY, _LOGS, _DESCRIBE)

# Codes below 128 with a meaning of their own (shells, container runtimes, conventions).
_FIXED: dict[int, tuple[str, str, str, tuple[str, ...], tuple[str, ...]]] = {
    0: (
        "success", SUCCESS,
        "The process finished and reported success.",
        ("a Job or init container finishing its work (reason Completed)",
         "a long-running server that returned from main() or ran its command once: under restartPolicy Always it is restarted and ends in CrashLoopBackOff",
         "a process that handled SIGTERM (deletion, rollout or a liveness kill) and exited cleanly"),
        (_WHY, _EVENTS, "kubectl get pod POD -n NAMESPACE -o jsonpath='{.spec.containers[*].command}'"),
    ),
    1: (
        "general error", ERROR,
        "The program exited with status 1: the catch-all failure of most programs and runtimes (an uncaught exception in Python, Node.js or Java, a failed shell command).",
        ("an application error at start-up: missing configuration, an unreachable database, a bad flag",
         "an unhandled exception: the stack trace is in the previous instance's logs"),
        _COMMON_STEPS,
    ),
    2: (
        "misuse or usage error", ERROR,
        "By convention a command-line usage error (bad option or argument), a shell builtin misuse, or a Go program's panic (Go exits 2 on an unrecovered panic).",
        ("wrong command or args in the container spec", "a Go panic: look for 'panic:' and a goroutine trace in the logs",
         "a process that exited 2 after SIGTERM (some runtimes map a caught signal to 2)"),
        _COMMON_STEPS,
    ),
    125: (
        "container runtime failure", RUNTIME,
        "The container runtime itself failed to run the container (docker/podman convention); the process never started.",
        ("an invalid option passed to the runtime", "a runtime or node problem"),
        (_DESCRIBE, _EVENTS),
    ),
    126: (
        "command cannot be executed", NOT_EXECUTABLE,
        "The command exists but could not be executed: permission denied, not an executable, or a script with a bad interpreter line.",
        ("the entrypoint lacks the executable bit (chmod +x in the image)",
         "runAsUser / readOnlyRootFilesystem / a noexec mount forbids running it",
         "a binary for another architecture (exec format error)"),
        (_DESCRIBE, "kubectl get pod POD -n NAMESPACE -o jsonpath='{.spec.containers[*].command}'", _LOGS),
    ),
    127: (
        "command not found", NOT_FOUND,
        "The shell or runtime could not find the command: a typo in command/args, a binary missing from the image, or a PATH that does not contain it.",
        ("a wrong command or args in the container spec", "an image built without the binary (multi-stage build, distroless image without a shell)",
         "a script whose interpreter (#!/bin/bash) is not in the image"),
        (_DESCRIBE, "kubectl get pod POD -n NAMESPACE -o jsonpath='{.spec.containers[*].command}'", _LOGS),
    ),
    128: (
        "invalid exit argument or start failure", RUNTIME,
        "Exit status 128 means an invalid argument to exit; in Kubernetes it is what containerd reports when the container could not be started (reason StartError).",
        ("StartError: the runtime could not start the process (missing executable, bad mount, permission)",
         "a program that called exit(128) itself"),
        (_DESCRIBE, _EVENTS),
    ),
    255: (
        "exit status out of range", ERROR,
        "Exit status 255 is exit(-1) or any status out of range truncated to 8 bits; many programs use it for a fatal error.",
        ("a fatal application error (exit(-1))", "ssh and some runtimes report 255 for their own failures"),
        _COMMON_STEPS,
    ),
}

_SIGNAL_K8S: dict[int, tuple[str, ...]] = {
    9: (
        "OOMKilled when the termination reason says so: the kernel's OOM killer at the container's memory limit (or the node's)",
        "a probe or deletion kill that outlived terminationGracePeriodSeconds: SIGTERM first, SIGKILL when the grace period ran out",
        "eviction under node pressure, or the node shutting down",
        "a manual kill (kill -9, crictl stop) or ContainerStatusUnknown after a node was lost",
    ),
    15: (
        "a graceful stop: rollout, deletion, scale-down, preemption or eviction",
        "a failed liveness or startup probe: the kubelet stops the container with SIGTERM and restarts it",
        "the process did not handle SIGTERM, so it died of it (exit 143); a handler that exits cleanly gives 0",
    ),
    2: ("a stop signal set to SIGINT (image STOPSIGNAL or lifecycle.stopSignal) during deletion or a probe kill",),
    11: ("a bug in native code (C/C++ library, JNI, a Python/Node extension)", "a stack overflow", "a binary built against another libc (musl vs glibc)"),
    6: ("a failed assertion or an uncaught C++ exception", "glibc detecting heap corruption (double free)", "a JVM or Node.js aborting on a fatal error"),
    7: ("a memory-mapped file truncated underneath", "/dev/shm full: the default 64Mi in containers; mount an emptyDir with medium Memory"),
    4: ("an image built for another CPU or with instructions the node's CPU lacks (AVX-512)",),
    8: ("an integer division by zero in native code",),
    13: ("writing to a closed pipe or socket without handling SIGPIPE, e.g. a log collector or client went away",),
    31: ("a seccomp profile (RuntimeDefault or custom) forbade a system call the program makes",),
    1: ("a process that treats SIGHUP as fatal; a stop signal set to SIGHUP",),
    3: ("a stop signal set to SIGQUIT (nginx's graceful stop), or a manual thread dump that killed the process",),
}


def _signal_info(code: int, num: int) -> ExitCodeInfo:
    if num in SIGNALS:
        name, what = SIGNALS[num]
    else:
        name = f"SIGRTMIN+{num - SIGRTMIN}" if num < SIGRTMAX else "SIGRTMAX"
        what = "a real-time signal the program did not handle"
    if num == 9:
        category, meaning = KILL, "killed by SIGKILL"
    elif num == 15:
        category, meaning = STOP, "terminated by SIGTERM"
    elif num in CRASH_SIGNALS:
        category, meaning = CRASH, f"crashed with {name}"
    else:
        category, meaning = SIGNAL, f"ended by {name}"
    steps: tuple[str, ...]
    if num == 9:
        steps = (_WHY, _REASON, _EVENTS, "kubectl top pod POD -n NAMESPACE --containers", _LOGS)
    elif num == 15:
        steps = (_WHY, _EVENTS, "kubectl rollout history deployment/DEPLOYMENT -n NAMESPACE", _LOGS)
    else:
        steps = _COMMON_STEPS
    return ExitCodeInfo(
        exit_code=code,
        meaning=meaning,
        category=category,
        description=f"128 + {num}: the process was ended by signal {num} ({name}): {what}.",
        signal=name,
        signal_number=num,
        kubernetes=_SIGNAL_K8S.get(num, ("a signal sent by another process in the container, the runtime, or the program itself",)),
        restart_policy=_restart(code),
        next_steps=steps,
    )


# Windows containers report NTSTATUS and HRESULT values: the well-known ones.
WINDOWS: dict[int, tuple[str, str, str]] = {
    0xC0000005: ("STATUS_ACCESS_VIOLATION", CRASH, "access violation: the Windows counterpart of a segmentation fault"),
    0xC00000FD: ("STATUS_STACK_OVERFLOW", CRASH, "stack overflow"),
    0xC0000409: ("STATUS_STACK_BUFFER_OVERRUN", CRASH, "stack buffer overrun, or a fail-fast exit (abort) by the program"),
    0xC0000374: ("STATUS_HEAP_CORRUPTION", CRASH, "heap corruption"),
    0xC0000094: ("STATUS_INTEGER_DIVIDE_BY_ZERO", CRASH, "integer division by zero"),
    0xC000001D: ("STATUS_ILLEGAL_INSTRUCTION", CRASH, "illegal instruction"),
    0xC0000017: ("STATUS_NO_MEMORY", ERROR, "out of memory: the job object's memory limit was reached"),
    0xC0000135: ("STATUS_DLL_NOT_FOUND", NOT_FOUND, "a DLL the program needs is missing from the image"),
    0xC0000142: ("STATUS_DLL_INIT_FAILED", RUNTIME, "a DLL failed to initialise (often a desktop-only API in a server image)"),
    0xC000013A: ("STATUS_CONTROL_C_EXIT", STOP, "ended by a Ctrl-C / Ctrl-Break console event: a graceful stop"),
    0x40010004: ("DBG_TERMINATE_PROCESS", KILL, "terminated by the runtime: what a Windows container reports when it is stopped or killed"),
    0xE0434352: (".NET unhandled exception", ERROR, "an unhandled .NET (CLR) exception; the stack trace is in the logs"),
    0x80131506: ("COR_E_EXECUTIONENGINE", CRASH, "the .NET runtime hit a fatal internal error"),
}


def decode(code: int) -> ExitCodeInfo:
    """What exit code `code` means. Accepts any int32 or uint32 value."""
    if code in _FIXED:
        meaning, category, description, k8s, steps = _FIXED[code]
        return ExitCodeInfo(code, meaning, category, description, kubernetes=k8s,
                            restart_policy=_restart(code), next_steps=steps)
    if 129 <= code <= 128 + SIGRTMAX:
        return _signal_info(code, code - 128)
    if 3 <= code <= 124 or 193 <= code <= 254:
        return ExitCodeInfo(
            code, "application-defined error", ERROR,
            f"Exit status {code} has no standard meaning: the program chose it. Its documentation or source says what it means.",
            kubernetes=("an application error: the reason is in the previous instance's logs",),
            restart_policy=_restart(code), next_steps=_COMMON_STEPS,
        )
    unsigned = code & 0xFFFFFFFF
    if unsigned in WINDOWS:
        name, category, what = WINDOWS[unsigned]
        return ExitCodeInfo(
            code, name, category,
            f"Not a Linux exit status (Linux keeps 8 bits): a Windows container's status 0x{unsigned:08X} ({name}): {what}."
            + (" Kubernetes reports exit codes as int32, so it shows as a negative number." if code < 0 else ""),
            kubernetes=("a Windows container: the value is an NTSTATUS or HRESULT, not a signal",),
            restart_policy=_restart(code), next_steps=_COMMON_STEPS,
        )
    return ExitCodeInfo(
        code, "unknown code", UNKNOWN,
        f"Not a Linux exit status (Linux keeps 8 bits, 0-255): probably a Windows container's NTSTATUS/HRESULT 0x{unsigned:08X}, "
        "or a value a runtime made up. probectl does not know this one.",
        kubernetes=("a Windows container, or a runtime-specific status",),
        restart_policy=_restart(code), next_steps=_COMMON_STEPS, known=False,
    )


_INT = re.compile(r"[+-]?[0-9]{1,10}")
_HEX = re.compile(r"0[xX][0-9a-fA-F]{1,8}")
_RT = re.compile(r"(?:SIG)?RT(MIN|MAX)(?:([+-])([0-9]{1,2}))?")


def signal_number(name: str) -> int | None:
    """Linux signal number for `SIGKILL`, `KILL`, `sigkill`, `SIGRTMIN+3`; None if unknown."""
    upper = name.strip().upper()
    if not upper:
        return None
    full = upper if upper.startswith("SIG") else "SIG" + upper
    if full in _BY_NAME:
        return _BY_NAME[full]
    m = _RT.fullmatch(upper)
    if m:
        base = SIGRTMIN if m.group(1) == "MIN" else SIGRTMAX
        offset = int(m.group(3) or 0) * (1 if m.group(2) != "-" else -1)
        num = base + offset
        return num if SIGRTMIN <= num <= SIGRTMAX else None
    return None


def parse(text: str) -> int:
    """Turn user text into an exit code: `137`, `-1073741819`, `0xC0000005`, `SIGKILL`, `kill`.

    Raises ExitCodeError with a message fit for the user.
    """
    raw = text.strip()
    if not raw:
        raise ExitCodeError("an empty exit code: give a number such as 137 or a signal name such as SIGKILL")
    if _INT.fullmatch(raw) or _HEX.fullmatch(raw):
        value = int(raw, 16) if raw.lower().startswith("0x") else int(raw)
        if INT32_MIN <= value <= UINT32_MAX:
            return value
    elif raw.lstrip("+-").isdigit():
        pass  # too many digits: fall through to the range error
    else:
        num = signal_number(raw)
        if num is not None:
            return 128 + num
        if re.fullmatch(r"[+-]?[0-9]*\.[0-9]*", raw):
            raise ExitCodeError(f"{raw!r} is not a whole number: exit codes are integers")
        raise ExitCodeError(f"{raw!r} is neither an exit code (a number such as 137) nor a Linux signal name (such as SIGKILL)")
    raise ExitCodeError(f"{raw!r} is out of range: Kubernetes reports exit codes as 32-bit integers ({INT32_MIN} to {UINT32_MAX})")


def known_codes() -> list[ExitCodeInfo]:
    """Every code with a specific meaning, for `probectl exitcode --list`."""
    codes = sorted(set(_FIXED) | {128 + n for n in SIGNALS})
    infos = [decode(c) for c in codes]
    infos += [decode(c) for c in sorted(WINDOWS)]
    return infos
