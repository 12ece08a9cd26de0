"""Counting wrong sign-in attempts: a lock-out after too many in a window, then open again."""

from __future__ import annotations

from proxy.core.lockout import Lockout


def test_ten_failures_in_a_minute_lock_out_for_a_minute() -> None:
    lockout = Lockout(max_failures=10, window=60, lockout=60)
    started = [lockout.failed(now=float(i)) for i in range(10)]
    assert started == [False] * 9 + [True]
    assert lockout.wait(9.0) == 60.0
    assert lockout.wait(68.5) == 0.5
    assert lockout.wait(69.0) == 0.0


def test_failures_spread_out_never_lock_out() -> None:
    lockout = Lockout(max_failures=10, window=60, lockout=60)
    assert not any(lockout.failed(now=i * 7.0) for i in range(100))
    assert lockout.wait(700.0) == 0.0


def test_a_success_clears_the_count() -> None:
    lockout = Lockout(max_failures=3, window=60, lockout=60)
    lockout.failed(0.0)
    lockout.failed(1.0)
    lockout.succeeded()
    assert not lockout.failed(2.0)
    assert lockout.wait(2.0) == 0.0


def test_failures_during_a_lock_out_do_not_extend_it() -> None:
    lockout = Lockout(max_failures=2, window=60, lockout=30)
    lockout.failed(0.0)
    assert lockout.failed(1.0)
    assert not lockout.failed(2.0)
    assert not lockout.failed(3.0)
    assert lockout.wait(3.0) == 28.0
