"""The chat page: ask in a chat box, read quoted answers beside their highlighted sources.

``build_app(retriever)`` builds the Gradio page from the public ``qa`` API; the event handlers
are plain functions of this module so they can be tested without a browser. ``serve()`` is what
``qa chat`` runs.

Example:
    >>> from qa import Retriever
    >>> demo = start(Retriever.load("index/"), port=7860)   # serves in the background
    >>> demo.close()
"""

from __future__ import annotations

import html
import os
import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path

# Gradio reads these at import: no version check, no telemetry, no look-ups on the network.
for _name, _value in {
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
}.items():
    os.environ.setdefault(_name, _value)

import gradio as gr  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from fastapi.responses import FileResponse, PlainTextResponse, Response  # noqa: E402

from qa import (  # noqa: E402
    DEFAULT_DOCS_DIR,
    DEFAULT_K,
    Answer,
    Embedder,
    IndexNotFound,
    QAError,
    Retriever,
    build_index,
)
from ui.followup import Interpretation, interpret, interpret_history  # noqa: E402
from ui.render import (  # noqa: E402
    DOCUMENT_ROUTE,
    escape_text,
    render_answer,
    render_documents,
    render_sources,
    render_upload_report,
)
from ui.upload import DOCUMENT_SUFFIXES, MAX_UPLOAD_BYTES, save_uploads  # noqa: E402

DEFAULT_HOST = "127.0.0.1"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
BUNDLED_ARTICLE = "nato-cluster-munitions.txt"
EXAMPLES = (
    "What is NATO's position on cluster munitions?",
    "How many countries have banned cluster munitions?",
    "How many bomblets does the MK-20 disperse?",
    "When did Textron stop producing the MK-20?",
)
CSS = """
#sources { max-height: 75vh; overflow-y: auto; }
#sources mark { background: #fde68a; color: #111827; padding: 0 2px; border-radius: 2px; }
.qa-source { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px; margin: 0 0 10px; }
.qa-source.qa-weak { border-style: dashed; opacity: 0.8; }
.qa-weak-badge { background: var(--neutral-200); color: var(--neutral-800); font-size: 0.8em;
                 padding: 1px 6px; border-radius: 4px; }
.qa-passage, .qa-quote { white-space: pre-wrap; line-height: 1.5; }
.qa-passage { margin-top: 6px; }
.qa-ref { color: var(--color-accent); font-weight: 600; }
.qa-cite .qa-title { font-weight: 600; }
.qa-searched, .qa-cite, .qa-count, .qa-sources-for { color: var(--body-text-color-subdued); font-size: 0.9em; }
"""
_SANDBOX = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"


@dataclass(frozen=True)
class Turn:
    """One question of a conversation: how it was understood and what was found."""

    interpretation: Interpretation
    answer: Answer


def _user_error(err: Exception) -> gr.Error:
    # gr.Error renders its message as HTML, and messages can quote file names.
    return gr.Error(html.escape(str(err)))


def respond(
    retriever: Retriever, question: str, history: list[dict], turns: list[Turn], k: int = DEFAULT_K
) -> tuple[str, list[dict], list[Turn], str]:
    """Answer ``question`` in the context of the conversation so far.

    Returns the cleared input box, the chat history with the new turn, the turns and the
    sources panel for the new answer.
    """
    interpretation = interpret(question, turns[-1].interpretation if turns else None)
    try:
        answer = retriever.ask(interpretation.query, k)
    except QAError as err:
        raise _user_error(err) from err
    searched = interpretation.query if interpretation.is_followup else None
    history = [
        *history,
        {"role": "user", "content": escape_text(interpretation.question)},
        {"role": "assistant", "content": render_answer(answer, searched)},
    ]
    return "", history, [*turns, Turn(interpretation, answer)], render_sources(answer)


def sources_for(turns: list[Turn], message_index: int) -> str:
    """The sources panel for the turn that chat message ``message_index`` belongs to."""
    turn = message_index // 2
    return render_sources(turns[turn].answer if 0 <= turn < len(turns) else None)


def select_message(turns: list[Turn], event: gr.SelectData) -> str:
    """Show the sources of the answer the person clicked."""
    return sources_for(turns, event.index)  # the index of the message in the chat


def clear() -> tuple[str, list[dict], list[Turn], str]:
    """An empty conversation."""
    return "", [], [], render_sources(None)


def ask(retriever: Retriever, question: str, history: list[str] | None = None, k: int = DEFAULT_K) -> dict:
    """The ``qa ask --json`` answer to ``question``, read as a follow-up to ``history``."""
    interpretation = interpret_history(list(history or []), question)
    return retriever.ask(interpretation.query, k).to_json()


def list_documents(retriever: Retriever) -> str:
    """The documents panel."""
    return render_documents(retriever.documents())


def add_documents(
    retriever: Retriever,
    docs_dir: str | os.PathLike,
    embedder: Embedder,
    files: list[str] | None,
    progress: gr.Progress = gr.Progress(track_tqdm=True),  # noqa: B008 - how Gradio asks for a bar
) -> tuple[str, str, None]:
    """Copy uploaded files into ``docs_dir`` and bring the index up to date.

    Returns the upload report, the refreshed documents panel and an empty upload box.
    """
    saved, refused = save_uploads(files or [], docs_dir)
    skipped: list[tuple[str, str]] = []
    indexed = [path.name for path in saved]
    if saved:
        try:
            report = build_index([docs_dir], retriever.index_dir, progress=True, embedder=embedder)
        except QAError as err:
            raise _user_error(err) from err
        retriever.reload()
        left_out = {Path(s.path).resolve(): s.reason for s in report.skipped}
        skipped = [(Path(p).name, reason) for p, reason in left_out.items()]
        indexed = [path.name for path in saved if path.resolve() not in left_out]
    return render_upload_report(indexed, refused, skipped), list_documents(retriever), None


def document_response(retriever: Retriever, source: str) -> Response:
    """The original file of indexed document ``source``; nothing else on disk is reachable.

    Text and HTML are served sandboxed (no scripts, no outside requests) as they are untrusted.
    """
    info = next((d for d in retriever.documents() if d.source == source), None)
    if info is None or not Path(info.path).is_file():
        return PlainTextResponse("No such document in the index.", status_code=404)
    path = Path(info.path)
    suffix = path.suffix.lower()
    headers = {"X-Content-Type-Options": "nosniff"}
    if suffix == ".pdf":
        media_type = "application/pdf"
    else:
        media_type = "text/html; charset=utf-8" if suffix in (".html", ".htm") else "text/plain; charset=utf-8"
        headers["Content-Security-Policy"] = _SANDBOX
    return FileResponse(path, media_type=media_type, headers=headers, filename=path.name,
                        content_disposition_type="inline")


def add_document_route(app: FastAPI, retriever: Retriever) -> None:
    """Serve indexed files at ``/documents/<source>``, behind the same login as the page."""
    # The page's own config route carries Gradio's login check; the files get the same one.
    config = next((r for r in app.routes if getattr(r, "path", None) == "/config"), None)
    if config is None:
        raise RuntimeError("This Gradio version has no /config route to copy the login check from.")

    def original_file(source: str) -> Response:
        return document_response(retriever, source)

    app.add_api_route(f"/{DOCUMENT_ROUTE}/{{source:path}}", original_file, methods=["GET"],
                      dependencies=list(config.dependencies), include_in_schema=False)


def build_app(
    retriever: Retriever, *, docs_dir: str | os.PathLike = DEFAULT_DOCS_DIR, embedder: Embedder | None = None
) -> gr.Blocks:
    """The chat page for ``retriever``'s index.

    Uploads are saved in ``docs_dir`` and embedded with ``embedder``: pass the retriever's own
    to share one model (default: another one for the index's model, loaded at the first upload).
    """
    embedder = embedder or Embedder(retriever.model, runtime=retriever.runtime)
    ui_only = {"api_visibility": "private"}
    # Events that use the model queue in one line: none waits on a model another is loading.
    model = {"concurrency_id": "model", "concurrency_limit": 1}
    with gr.Blocks(title="qa: ask your documents", delete_cache=(3600, 3600)) as demo:
        turns = gr.State([])
        gr.Markdown("## Ask your documents\nEvery answer is quoted word for word from your documents.")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    elem_id="chat", label="Chat", height=480, buttons=["copy"], latex_delimiters=[],
                    feedback_options=None, placeholder="Ask a question about your documents.",
                )
                with gr.Row():
                    question = gr.Textbox(elem_id="question", show_label=False, scale=6, autofocus=True,
                                          placeholder="Ask a question and press Enter")
                    ask_button = gr.Button("Ask", variant="primary", elem_id="ask", scale=1, min_width=80)
                    clear_button = gr.Button("Clear", elem_id="clear", scale=1, min_width=80)
                if any(Path(d.source).name == BUNDLED_ARTICLE for d in retriever.documents()):
                    gr.Examples([[q] for q in EXAMPLES], inputs=question, label="Examples (bundled article)")
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources = gr.HTML(render_sources(None), elem_id="sources")
        with gr.Accordion("Documents", open=False, elem_id="documents-panel"):
            upload = gr.File(label="Add documents (" + ", ".join(DOCUMENT_SUFFIXES) + ")", elem_id="upload",
                             file_count="multiple", file_types=list(DOCUMENT_SUFFIXES))
            upload_report = gr.HTML(elem_id="upload-report")
            documents = gr.HTML(elem_id="documents")

        chat_io = {"inputs": [question, chatbot, turns], "outputs": [question, chatbot, turns, sources]}
        question.submit(partial(respond, retriever), **chat_io, **ui_only, **model)
        ask_button.click(partial(respond, retriever), **chat_io, **ui_only, **model)
        for cleared in (clear_button.click, chatbot.clear):
            cleared(clear, outputs=[question, chatbot, turns, sources], **ui_only)
        chatbot.select(select_message, inputs=turns, outputs=sources, **ui_only)
        upload.upload(partial(add_documents, retriever, docs_dir, embedder), inputs=upload,
                      outputs=[upload_report, documents, upload], **ui_only, **model)
        demo.load(partial(list_documents, retriever), outputs=documents, **ui_only)
        # The model loads once the page is up: the page isn't slowed, and the person is typing.
        demo.load(partial(warm_up, retriever), show_progress="hidden", **ui_only, **model)

        def ask_api(question: str, history: list[str] | None = None) -> dict:
            """Answer a question, read as a follow-up to the earlier questions in history (oldest
            first), with the same JSON as `qa ask --json`."""
            try:
                return ask(retriever, question, history)
            except QAError as err:
                raise _user_error(err) from err

        gr.api(ask_api, api_name="ask", **model)
    return demo


def open_index(index_dir: str | os.PathLike | None, docs_dir: str | os.PathLike) -> tuple[Retriever, Embedder]:
    """The retriever and one embedding model that answering and uploads share.

    When there is no index yet, it is built from ``docs_dir`` first, with progress.
    """
    try:
        existing = Retriever.load(index_dir)  # reads the manifest; the model loads lazily
        model, runtime = existing.model, existing.runtime
    except IndexNotFound:
        print(f"No index yet: indexing {docs_dir} first.", file=sys.stderr)
        model = runtime = None
    embedder = Embedder(model, runtime=runtime)
    if model is None:
        build_index([docs_dir], index_dir, progress=True, embedder=embedder)
    return Retriever.load(index_dir, embedder=embedder), embedder


def exposure_warning(host: str, share: bool, auth: tuple[str, str] | None) -> str | None:
    """A warning when the page is reachable from other machines without a login."""
    if auth is not None or not (share or host not in LOOPBACK_HOSTS):
        return None
    where = "a public share link" if share else f"{host}, not just this machine"
    return f"Warning: anyone who can reach {where} can read your documents; pass --auth user:password."


def warm_up(retriever: Retriever) -> None:
    """Load the model, so that the first question needn't wait for it (errors show on asking)."""
    try:
        retriever.search("warm up", k=1)
    except QAError:
        pass


def start(
    retriever: Retriever,
    *,
    docs_dir: str | os.PathLike = DEFAULT_DOCS_DIR,
    embedder: Embedder | None = None,
    host: str = DEFAULT_HOST,
    port: int | None = None,
    share: bool = False,
    auth: tuple[str, str] | None = None,
) -> gr.Blocks:
    """Build the page and start serving it in the background; ``.close()`` stops it."""
    demo = build_app(retriever, docs_dir=docs_dir, embedder=embedder)
    demo.launch(server_name=host, server_port=port, share=share, auth=auth, prevent_thread_lock=True,
                ssr_mode=False, max_file_size=MAX_UPLOAD_BYTES, footer_links=["api", "settings"], css=CSS,
                quiet=True)
    add_document_route(demo.app, retriever)
    return demo


def serve(
    index_dir: str | os.PathLike | None = None,
    *,
    docs_dir: str | os.PathLike = DEFAULT_DOCS_DIR,
    host: str = DEFAULT_HOST,
    port: int | None = None,
    share: bool = False,
    auth: tuple[str, str] | None = None,
) -> None:
    """What ``qa chat`` does: open the index, start the page, print its URL, run until Ctrl+C."""
    retriever, embedder = open_index(index_dir, docs_dir)
    warning = exposure_warning(host, share, auth)
    if warning:
        print(warning, file=sys.stderr)
    demo = start(retriever, docs_dir=docs_dir, embedder=embedder, host=host, port=port, share=share, auth=auth)
    print(f"Chat page: {demo.local_url}" + (f" and {demo.share_url}" if demo.share_url else ""), flush=True)
    demo.block_thread()


if __name__ == "__main__":
    serve()
