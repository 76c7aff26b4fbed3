"""The exit-code decoder: the whole table, boundaries, Windows codes, parsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from probectl.core import exitcodes as ec

LINUX = {
    1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS",
    8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE",
    14: "SIGALRM", 15: "SIGTERM", 16: "SIGSTKFLT", 17: "SIGCHLD", 18: "SIGCONT", 19: "SIGSTOP",
    20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ",
    26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO", 30: "SIGPWR", 31: "SIGSYS",
}


@pytest.mark.parametrize("num,name", sorted(LINUX.items()))
def test_every_linux_signal(num, name):
    info = ec.decode(128 + num)
    assert info.signal == name
    assert info.signal_number == num
    assert info.exit_code == 128 + num
    assert f"signal {num}" in info.description
    assert set(info.restart_policy) == {"Always", "OnFailure", "Never"}
    assert info.next_steps


def test_linux_numbering_not_the_hosts():
    # macOS has SIGBUS 10 and SIGUSR1 30: containers are Linux.
    assert ec.decode(135).signal == "SIGBUS"
    assert ec.decode(138).signal == "SIGUSR1"
    assert ec.decode(159).signal == "SIGSYS"


@pytest.mark.parametrize(
    "code,category,signal",
    [
        (0, "success", None), (1, "error", None), (2, "error", None), (125, "runtime", None),
        (126, "not-executable", None), (127, "not-found", None), (128, "runtime", None),
        (129, "signal", "SIGHUP"), (137, "kill", "SIGKILL"), (143, "stop", "SIGTERM"),
        (139, "crash", "SIGSEGV"), (134, "crash", "SIGABRT"), (132, "crash", "SIGILL"),
        (133, "crash", "SIGTRAP"), (135, "crash", "SIGBUS"), (136, "crash", "SIGFPE"),
        (255, "error", None), (42, "error", None),
    ],
)
def test_boundaries_and_categories(code, category, signal):
    info = ec.decode(code)
    assert info.category == category
    assert info.signal == signal
    assert info.hex is None


def test_real_time_signals():
    assert ec.decode(128 + 34).signal == "SIGRTMIN+0"
    assert ec.decode(128 + 40).signal == "SIGRTMIN+6"
    assert ec.decode(192).signal == "SIGRTMAX"
    assert ec.decode(193).signal is None


def test_137_names_oom_probe_and_eviction():
    text = " ".join(ec.decode(137).kubernetes)
    for word in ("OOMKilled", "terminationGracePeriodSeconds", "eviction", "manual kill"):
        assert word in text


def test_143_names_rollout_and_probe():
    text = " ".join(ec.decode(143).kubernetes)
    assert "rollout" in text and "liveness" in text


def test_exit_0_under_always_restarts():
    info = ec.decode(0)
    assert info.restart_policy["Always"].startswith("restarted")
    assert info.restart_policy["OnFailure"].startswith("not restarted")
    assert ec.decode(1).restart_policy["OnFailure"].startswith("restarted")
    assert ec.decode(1).restart_policy["Never"].startswith("not restarted")


@pytest.mark.parametrize("code", [256, -1, 1000, 2**31 - 1])
def test_outside_linux_range_says_so(code):
    info = ec.decode(code)
    assert info.known is False
    assert info.category == "unknown"
    assert "Not a Linux exit status" in info.description
    assert info.hex == f"0x{code & 0xFFFFFFFF:08X}"


@pytest.mark.parametrize("code", [3221225477, -1073741819])
def test_windows_access_violation_both_signs(code):
    info = ec.decode(code)
    assert info.meaning == "STATUS_ACCESS_VIOLATION"
    assert info.hex == "0xC0000005"
    assert info.category == "crash"
    assert info.known


def test_windows_terminate():
    assert ec.decode(1073807364).meaning == "DBG_TERMINATE_PROCESS"


@pytest.mark.parametrize(
    "text,code",
    [("137", 137), (" 143 ", 143), ("0", 0), ("-1", -1), ("+2", 2), ("SIGKILL", 137), ("KILL", 137),
     ("sigkill", 137), ("kill", 137), ("SIGTERM", 143), ("segv", 139), ("SIGIOT", 134),
     ("SIGRTMIN+3", 165), ("0xC0000005", 3221225477), ("4294967295", 4294967295),
     ("-2147483648", -(2**31))],
)
def test_parse(text, code):
    assert ec.parse(text) == code


@pytest.mark.parametrize(
    "text,fragment",
    [("abc", "neither"), ("1.5", "whole number"), ("", "empty"), ("   ", "empty"),
     ("123456789012345678901234567890", "out of range"), ("4294967296", "out of range"),
     ("-2147483649", "out of range"), ("SIGFOO", "neither"), ("0x", "neither"), ("SIGRTMIN+40", "neither")],
)
def test_parse_rejects(text, fragment):
    with pytest.raises(ec.ExitCodeError, match=fragment):
        ec.parse(text)


def test_known_codes_cover_every_signal_and_windows():
    codes = {i.exit_code for i in ec.known_codes()}
    assert {128 + n for n in LINUX} <= codes
    assert {0, 1, 2, 125, 126, 127, 128, 255, 3221225477} <= codes


@given(st.integers(min_value=ec.INT32_MIN, max_value=ec.UINT32_MAX))
def test_decode_any_int32_or_uint32(code):
    info = ec.decode(code)
    assert info.exit_code == code
    assert info.meaning
    doc = info.to_dict()
    assert doc["kind"] == "ExitCode" and doc["exitCode"] == code
    assert (doc["signal"] is None) == (doc["signalNumber"] is None)


@given(st.text(max_size=40))
def test_parse_never_raises_anything_else(text):
    try:
        ec.parse(text)
    except ec.ExitCodeError:
        pass
