"""The chat page: ask in a chat box, read quoted answers beside their highlighted sources.

``build_app(retriever)`` builds the Gradio page from the public ``qa`` API; the event handlers
are plain functions (ui/chat.py, ui/documents.py) so they can be tested without a browser, and
the page's own behaviour in the browser is page.js and page.css. ``serve()`` is what ``qa chat``
runs.

Example:
    >>> from qa import Retriever
    >>> demo = start(Retriever.load("index/"), port=7860)   # serves in the background
    >>> demo.close()
"""

from __future__ import annotations

import os
import sys
from functools import partial
from pathlib import Path

import gradio as gr

from qa import (
    DEFAULT_DOCS_DIR,
    DOCUMENT_SUFFIXES,
    MAX_QUESTION_CHARS,
    Embedder,
    IndexNotFound,
    QAError,
    Retriever,
    build_index,
)
from ui.chat import ANSWER_MODES, ask, clear, respond_with_options, select_message
from ui.document_view import add_document_route
from ui.documents import add_documents, filter_choices, refresh, remove_document
from ui.login import Login
from ui.render import render_sources
from ui.upload import MAX_UPLOAD_BYTES

DEFAULT_HOST = "127.0.0.1"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
BUNDLED_ARTICLE = "nato-cluster-munitions.txt"
EXAMPLES = (
    "What is NATO's position on cluster munitions?",
    "How many countries have banned cluster munitions?",
    "How many bomblets does the MK-20 disperse?",
    "When did Textron stop producing the MK-20?",
)
_HERE = Path(__file__).parent
CSS = (_HERE / "page.css").read_text(encoding="utf-8")
SCRIPT = (_HERE / "page.js").read_text(encoding="utf-8")
"""Copy as plain text, [n] markers that show their source, Up/Escape in the box, new answers
shown from their first line (see page.js)."""


def build_app(
    retriever: Retriever, *, docs_dir: str | os.PathLike = DEFAULT_DOCS_DIR, embedder: Embedder | None = None
) -> gr.Blocks:
    """The chat page for ``retriever``'s index.

    Uploads are saved in ``docs_dir`` and embedded with ``embedder``: pass the retriever's own
    to share one model (default: another one for the index's model, loaded at the first upload).
    """
    embedder = embedder or Embedder(retriever.model, runtime=retriever.runtime)
    ui_only = {"api_visibility": "private"}
    # Questions use the model queue in one line: none waits on a model another is loading.
    # Indexing has its own line, so questions are answered (from the index as it was) meanwhile.
    model = {"concurrency_id": "model", "concurrency_limit": 1}
    indexing = {"concurrency_id": "index", "concurrency_limit": 1}
    with gr.Blocks(title="qa: ask your documents", delete_cache=(3600, 3600)) as demo:
        turns = gr.State([])
        known = gr.State([])  # the indexed documents, as the page last listed them
        gr.Markdown("## Ask your documents\nEvery answer is quoted word for word from your documents.")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, elem_id="chat-column"):
                # No copy buttons (they would copy markup; page.js adds "Copy quotes") and no
                # autoscroll (page.js shows a new answer from its first line, not its last).
                chatbot = gr.Chatbot(
                    elem_id="chat", label="Chat", show_label=False, height=520, buttons=[], autoscroll=False,
                    latex_delimiters=[], feedback_options=None, placeholder="Ask a question about your documents.",
                )
                with gr.Row(elem_id="ask-row"):
                    question = gr.Textbox(elem_id="question", show_label=False, scale=6, autofocus=True,
                                          max_length=MAX_QUESTION_CHARS,
                                          placeholder="Ask a question and press Enter")
                    ask_button = gr.Button("Ask", variant="primary", elem_id="ask", scale=1, min_width=70)
                    clear_button = gr.Button("Clear", elem_id="clear", scale=1, min_width=70)
                question_note = gr.HTML(elem_id="question-note", padding=False)  # why a question was refused
                with gr.Accordion("Dates, documents, sources", open=False, elem_id="filters") as filters:
                    with gr.Row():
                        since = gr.Textbox(label="Since (date)", placeholder="2024-03-01, 2024-03 or 2024",
                                           elem_id="since", max_length=10)
                        until = gr.Textbox(label="Until (date)", placeholder="2024-03-31, 2024-03 or 2024",
                                           elem_id="until", max_length=10)
                    filter_note = gr.HTML(elem_id="filter-note", padding=False)  # why a filter was refused
                    only = gr.Dropdown(label="Only these documents (none chosen: all)", choices=[], value=[],
                                       multiselect=True, elem_id="only-documents")
                    mode = gr.Radio(list(ANSWER_MODES), value=ANSWER_MODES[0], label="Answer", elem_id="answer-mode")
                if any(Path(d.source).name == BUNDLED_ARTICLE for d in retriever.documents()):
                    gr.Examples([[q] for q in EXAMPLES], inputs=question, label="Examples (bundled article)")
            with gr.Column(scale=2, elem_id="sources-column"):
                gr.Markdown("### Sources")
                sources = gr.HTML(render_sources(None), elem_id="sources")
        with gr.Accordion("Documents", open=False, elem_id="documents-panel"):
            upload = gr.File(label="Add documents (" + ", ".join(DOCUMENT_SUFFIXES) + ")", elem_id="upload",
                             file_count="multiple", file_types=list(DOCUMENT_SUFFIXES))
            report = gr.HTML(elem_id="documents-report", min_height=40)
            with gr.Row(equal_height=False, elem_id="remove-row"):
                remove_choice = gr.Dropdown(label="Remove a document from the index", choices=[], value=None,
                                            elem_id="remove-choice", scale=4)
                remove_button = gr.Button("Remove", elem_id="remove", scale=1, min_width=90)
            documents = gr.HTML(elem_id="documents")

        chat_io = {"inputs": [question, chatbot, turns, since, until, only, mode],
                   "outputs": [question, chatbot, turns, sources, question_note, filter_note, since, until, only,
                               filters]}
        question.submit(partial(respond_with_options, retriever), **chat_io, **ui_only, **model)
        ask_button.click(partial(respond_with_options, retriever), **chat_io, **ui_only, **model)
        for cleared in (clear_button.click, chatbot.clear):
            cleared(clear, outputs=[question, chatbot, turns, sources], **ui_only)
        chatbot.select(select_message, inputs=turns, outputs=sources, **ui_only)
        # Listing runs in the model queue: a question switching builds never races it.
        listing = {"fn": partial(refresh, retriever), "inputs": [remove_choice], "outputs": [documents, remove_choice, known],
                   **ui_only, **model}
        choosing = {"fn": filter_choices, "inputs": [known, only], "outputs": only, **ui_only}
        upload.upload(partial(add_documents, docs_dir, retriever.index_dir, embedder), inputs=[upload, known],
                      outputs=[report, upload], show_progress_on=[upload], **ui_only, **indexing
                      ).then(**listing).then(**choosing)
        removing = gr.State(None)  # the document a second press of Remove confirms
        remove_button.click(partial(remove_document, retriever.index_dir),
                            inputs=[remove_choice, known, removing], outputs=[report, removing],
                            show_progress_on=[report], **ui_only, **indexing).then(**listing).then(**choosing)
        demo.load(**listing).then(**choosing)
        # The model loads once the page is up: the page isn't slowed, and the person is typing.
        demo.load(partial(warm_up, retriever), show_progress="hidden", **ui_only, **model)

        def ask_api(question: str, history: list[str] | None = None, since: str | None = None,
                    until: str | None = None, source: list[str] | None = None, per_source: int | None = None) -> dict:
            """Answer a question, read as a follow-up to the earlier questions in history (oldest
            first), with the same JSON as `qa ask --json`; since, until (dates), source (globs over
            document ids) and per_source (a number of documents) as `qa ask` --since, --until,
            --source and --sources."""
            try:
                return ask(retriever, question, history, since=since, until=until, source=source or None,
                           per_source=per_source)
            except QAError as err:  # as JSON, never shown as HTML: the message as it is, and no traceback
                raise gr.Error(str(err), print_exception=False) from err

        gr.api(ask_api, api_name="ask", **model)
    _default_missing_values(demo, "ask")
    return demo


def _default_missing_values(demo: gr.Blocks, api_name: str) -> None:
    """Values left off the end of a call to API ``api_name`` take their defaults (None), as Gradio's
    own clients send them; Gradio would refuse the call with an empty error."""
    validate = demo.validate_inputs

    def padded(block_fn, inputs: list) -> None:
        if block_fn.api_name == api_name and isinstance(inputs, list):
            inputs.extend([None] * (len(block_fn.inputs) - len(inputs)))
        validate(block_fn, inputs)

    demo.validate_inputs = padded


def open_index(index_dir: str | os.PathLike | None, docs_dir: str | os.PathLike) -> tuple[Retriever, Embedder]:
    """The retriever and one embedding model that answering and uploads share.

    When there is no index yet, it is built from ``docs_dir`` first, with progress.
    """
    try:
        retriever = Retriever.load(index_dir)  # the model loads when first used
        return retriever, retriever.embedder
    except IndexNotFound:
        print(f"No index yet: indexing {docs_dir} first.", file=sys.stderr)
    embedder = Embedder()
    build_index([docs_dir], index_dir, progress=True, embedder=embedder)
    return Retriever.load(index_dir, embedder=embedder), embedder


def exposure_warning(host: str, share: bool, auth: tuple[str, str] | None) -> str | None:
    """A warning when the page is reachable from other machines without a login."""
    if auth is not None or not (share or host not in LOOPBACK_HOSTS):
        return None
    where = "a public share link" if share else f"{host}, not just this machine"
    return (f"Warning: anyone who can reach {where} can read your documents and upload new ones; "
            "require a login with $QA_AUTH=user:password or --auth-file FILE.")


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
    demo.launch(server_name=host, server_port=port, share=share, auth=Login(*auth).check if auth else None,
                prevent_thread_lock=True, ssr_mode=False, max_file_size=MAX_UPLOAD_BYTES,
                footer_links=["api", "settings"], css=CSS, js=SCRIPT, quiet=True)
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
