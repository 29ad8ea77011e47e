"""Fixtures shared by the runner tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def interrupt(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """``interrupt(owner, name, at, run, *args, **kwargs)``: ``run(*args, **kwargs)`` stopped by a
    KeyboardInterrupt (Ctrl-C, or a killed job) on the ``at``-th call of ``owner.name``.

    The runner must stop there (it fails the test otherwise); ``owner.name`` is restored
    before this returns, so the caller's next run is the resume. Only the patch is undone:
    what the interrupted run wrote stays for the resume to find.
    """

    def stop(owner: Any, name: str, at: int, run: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        real = getattr(owner, name)
        calls = 0

        def stopping(*a: Any, **k: Any) -> Any:
            nonlocal calls
            calls += 1
            if calls == at:
                raise KeyboardInterrupt
            return real(*a, **k)

        with monkeypatch.context() as m:
            m.setattr(owner, name, stopping)
            with pytest.raises(KeyboardInterrupt):
                run(*args, **kwargs)

    return stop


@pytest.fixture
def count_calls(monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[Any, int]]:
    """``count_calls(owner, name, run, *args, **kwargs)`` → (what ``run`` returned, how often it
    called ``owner.name``): a resumed run must call the model (or write) less than a full one,
    or it silently started over."""

    def count(owner: Any, name: str, run: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, int]:
        real = getattr(owner, name)
        calls = 0

        def counting(*a: Any, **k: Any) -> Any:
            nonlocal calls
            calls += 1
            return real(*a, **k)

        with monkeypatch.context() as m:
            m.setattr(owner, name, counting)
            result = run(*args, **kwargs)
        return result, calls

    return count
