"""The page's login: a check that slows guessing down, and Gradio's login guard for our routes.

Gradio 5-6 protect their own routes with a dependency that is not public API; this module is
the one place that reaches for it (tests/test_ui_login.py fails loudly if Gradio changes it).
"""

from __future__ import annotations

import asyncio
import hmac

from fastapi import FastAPI

FAILED_LOGIN_DELAY_S = 1.0
"""Each failed login is answered after this long, one at a time."""


class Login:
    """The page's login: pass ``Login(user, password).check`` to ``launch(auth=...)``.

    The right user and password pass at once. Wrong ones are answered one after another, each
    after ``delay`` seconds, so guessing runs at one try per ``delay`` however many connections
    an attacker opens.
    """

    def __init__(self, user: str, password: str, *, delay: float = FAILED_LOGIN_DELAY_S) -> None:
        self._user = user.encode()
        self._password = password.encode()
        self._delay = delay
        self._failures = asyncio.Lock()

    async def check(self, user: str, password: str) -> bool:
        """Whether ``user`` and ``password`` are right (a coroutine function, as Gradio awaits only those)."""
        # Both comparisons always run, in constant time: the answer's timing tells nothing.
        right_user = hmac.compare_digest(user.encode(), self._user)
        right_password = hmac.compare_digest(password.encode(), self._password)
        if right_user and right_password:
            return True
        async with self._failures:
            await asyncio.sleep(self._delay)
        return False


def login_dependencies(app: FastAPI) -> list:
    """The dependencies with which Gradio guards its ``/config`` route (the login check).

    Raises RuntimeError when this Gradio has no such route, rather than serving files unguarded.
    """
    config = next((r for r in app.routes if getattr(r, "path", None) == "/config"), None)
    if config is None or not getattr(config, "dependencies", None):
        raise RuntimeError("This Gradio version has no guarded /config route to copy the login check from; "
                           "qa supports the Gradio versions in its pyproject.toml.")
    return list(config.dependencies)
