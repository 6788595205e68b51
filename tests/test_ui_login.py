"""The page's login: right credentials pass, failures are slowed down, our routes are guarded,
and the password can come from the environment or a file instead of the command line."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from click.testing import CliRunner
from fastapi import FastAPI
from ui_support import free_port

from qa.cli import cli
from ui.app import EXAMPLES, start
from ui.login import Login, login_dependencies

pytest_plugins = ["ui_fixtures"]


def test_failed_logins_are_answered_one_at_a_time_after_a_delay():
    login = Login("ann", "secret", delay=0.2)

    async def attempts():
        started = time.perf_counter()
        wrong = [asyncio.create_task(login.check("ann", guess)) for guess in ("a", "b", "c")]
        right = await login.check("ann", "secret")
        pending_when_right = sum(not task.done() for task in wrong)
        results = await asyncio.gather(*wrong)
        return right, pending_when_right, results, time.perf_counter() - started

    # A thread of its own: Playwright's sync API may be running an event loop in this one.
    with ThreadPoolExecutor(1) as thread:
        right, pending_when_right, results, seconds = thread.submit(asyncio.run, attempts()).result()
    assert right is True and results == [False, False, False]
    assert pending_when_right == 3  # the right password never waits behind the wrong ones
    assert seconds >= 3 * 0.2  # three connections guess no faster than one


def test_the_login_guard_is_found_on_this_gradio_and_refused_without_one():
    with pytest.raises(RuntimeError, match="no guarded /config route"):
        login_dependencies(FastAPI())


@pytest.mark.slow
def test_page_serves_and_guards_documents_behind_a_slow_login(ui_retriever, embedder):
    demo = start(ui_retriever, embedder=embedder, port=free_port(), auth=("ann", "pw"))
    try:
        assert login_dependencies(demo.app)  # Gradio still guards /config the way ui/login.py expects
        with httpx.Client(base_url=demo.local_url) as client:
            assert client.get("/documents/pelicans.md").status_code == 401
            started = time.perf_counter()
            assert client.post("/login", data={"username": "ann", "password": "guess"}).status_code == 400
            assert time.perf_counter() - started >= 1.0
            assert client.get("/documents/pelicans.md").status_code == 401
            assert client.post("/login", data={"username": "ann", "password": "pw"}).status_code == 200
            page = client.get("/")
            assert page.status_code == 200 and "qa: ask your documents" in page.text
            original = client.get("/documents/pelicans.md")
            assert original.status_code == 200 and "Each pelican eats about four pounds" in original.text
            assert EXAMPLES[0] in client.get("/config").text
    finally:
        demo.close()


def test_chat_takes_the_login_from_the_environment_or_a_file(tmp_path, monkeypatch):
    import ui.app

    served = []
    monkeypatch.setattr(ui.app, "serve", lambda *args, **kwargs: served.append(kwargs["auth"]))
    (tmp_path / "login").write_text("ann:from file\n")
    assert CliRunner().invoke(cli, ["chat", "--auth-file", str(tmp_path / "login")]).exit_code == 0
    assert CliRunner().invoke(cli, ["chat"], env={"QA_AUTH": "bob:from env"}).exit_code == 0
    assert served == [("ann", "from file"), ("bob", "from env")]
