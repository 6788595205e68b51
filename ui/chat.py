"""The conversation's handlers: a question in, a quoted answer and its sources out.

Plain functions of the retriever and the page's state, so they can be tested without a browser.
"""

from __future__ import annotations

import glob
import html
from dataclasses import dataclass

import gradio as gr

from qa import DEFAULT_K, MAX_QUESTION_CHARS, Answer, InvalidInput, QAError, Retriever
from ui.followup import Interpretation, interpret, interpret_history
from ui.render import escape_text, render_answer, render_sources

MAX_HISTORY = 100
"""The /ask API reads at most this many earlier questions."""
ANSWER_MODES = ("One answer", "Each source")
EACH_SOURCE = 5
""""Each source" quotes the best sentence of each of up to this many documents."""


@dataclass(frozen=True)
class AskOptions:
    """The page's filters and answer mode: a date range, the documents to ask (none = all), and
    one answer or the best quote of each source."""

    since: str = ""
    until: str = ""
    documents: tuple[str, ...] = ()
    each_source: bool = False

    def arguments(self) -> dict:
        """The keyword arguments of ``Retriever.ask`` that these options stand for."""
        return {
            "since": self.since.strip() or None,
            "until": self.until.strip() or None,
            # Document ids are matched as globs: escape any * ? [ in them.
            "source": [glob.escape(source) for source in self.documents] or None,
            "per_source": EACH_SOURCE if self.each_source else None,
        }


@dataclass(frozen=True)
class Turn:
    """One question of a conversation: how it was understood and what was found."""

    interpretation: Interpretation
    answer: Answer


def user_error(err: Exception) -> gr.Error:
    """A library error as the page shows it (escaped: gr.Error renders HTML, and messages quote
    file names)."""
    return gr.Error(html.escape(str(err)))


def understand(question: str, previous: Interpretation | None) -> Interpretation:
    """``question`` read in the context of ``previous``; an overlong or non-text question is passed
    on as it is, for the library to refuse, and context is only added where it fits."""
    if not isinstance(question, str) or len(question) > MAX_QUESTION_CHARS:
        return Interpretation(question, question)
    interpretation = interpret(question, previous)
    return interpretation if len(interpretation.query) <= MAX_QUESTION_CHARS else interpret(question)


def respond(
    retriever: Retriever, question: str, history: list[dict], turns: list[Turn], k: int = DEFAULT_K,
    options: AskOptions = AskOptions(),
) -> tuple[str, list[dict], list[Turn], str]:
    """Answer ``question`` in the context of the conversation so far, within ``options``.

    Returns the cleared input box, the chat history with the new turn, the turns and the
    sources panel for the new answer. An empty question changes nothing. A follow-up is read
    with the previous question only when that one was answered: terms that found nothing would
    make the follow-up find nothing too.
    """
    try:
        return _respond(retriever, question, history, turns, k, options)
    except QAError as err:
        raise user_error(err) from err


def _respond(retriever: Retriever, question: str, history: list[dict], turns: list[Turn], k: int,
             options: AskOptions) -> tuple[str, list[dict], list[Turn], str]:
    """:func:`respond`, raising the library's error."""
    if not question or not question.strip():
        # Nothing at all, the box included: a late reply to a stray Enter must not wipe what is typed since.
        return gr.skip(), gr.skip(), gr.skip(), gr.skip()
    previous = turns[-1] if turns else None
    interpretation = understand(question, previous.interpretation if previous and previous.answer.answered else None)
    answer = retriever.ask(interpretation.query, k, **options.arguments())
    searched = interpretation.query if interpretation.is_followup else None
    turn = len(turns)
    history = [
        *history,
        {"role": "user", "content": escape_text(interpretation.question)},
        {"role": "assistant", "content": render_answer(answer, searched, turn)},
    ]
    return "", history, [*turns, Turn(interpretation, answer)], render_sources(answer, turn)


FILTER_FIELDS = ("since", "until", "source")
"""The filter fields a refusal can point at, in the order :func:`respond_with_options` returns them."""


def respond_with_options(
    retriever: Retriever, question: str, history: list[dict], turns: list[Turn], since: str | None,
    until: str | None, documents: list[str] | None, mode: str | None,
) -> tuple:
    """:func:`respond` with the page's filter fields and answer mode as they were when asked.

    Returns respond's four values, then the note under the question box, the note in the filter
    panel, an update of each of :data:`FILTER_FIELDS` (marked ``qa-invalid`` or not) and one of the
    filter panel. A question or filter the library refuses leaves the conversation as it was (not
    Gradio's error badges over it): the question stays in its box and the message shows where the
    fault is, in the filter panel, opened, when a filter is at fault.
    """
    options = AskOptions(since or "", until or "", tuple(documents or ()), mode == ANSWER_MODES[1])
    try:
        answered = _respond(retriever, question, history, turns, DEFAULT_K, options)
    except QAError as err:
        argument = getattr(err, "argument", None)
        in_filters = argument in (*FILTER_FIELDS, "filter")
        note = f'<p class="qa-invalid-note" role="alert">{escape_text(str(err))}</p>'
        fields = [gr.update(elem_classes=["qa-invalid"] if argument == name else []) for name in FILTER_FIELDS]
        return (question, gr.skip(), gr.skip(), gr.skip(), "" if in_filters else note, note if in_filters else "",
                *fields, gr.update(open=True) if in_filters else gr.skip())
    fields = [gr.update(elem_classes=[]) for _ in FILTER_FIELDS]
    return (*answered, "", "", *fields, gr.skip())


def sources_for(turns: list[Turn], message_index: int) -> str:
    """The sources panel for the turn that chat message ``message_index`` belongs to."""
    turn = message_index // 2
    return render_sources(turns[turn].answer, turn) if 0 <= turn < len(turns) else render_sources(None)


def select_message(turns: list[Turn], event: gr.SelectData) -> str:
    """Show the sources of the answer the person clicked."""
    return sources_for(turns, event.index)  # the index of the message in the chat


def clear() -> tuple[str, list[dict], list[Turn], str]:
    """An empty conversation."""
    return "", [], [], render_sources(None)


def checked_history(history: object) -> list[str]:
    """The /ask API's ``history``: a list of earlier questions (strings), oldest first."""
    if history is None:
        return []
    if not isinstance(history, list) or not all(isinstance(q, str) for q in history):
        raise InvalidInput("history must be a list of the earlier questions (text), oldest first.")
    if len(history) > MAX_HISTORY:
        raise InvalidInput(f"history has {len(history)} questions; send at most the last {MAX_HISTORY}.")
    return [q for q in history if len(q) <= MAX_QUESTION_CHARS]


def ask(retriever: Retriever, question: str, history: list[str] | None = None, k: int = DEFAULT_K,
        **filters) -> dict:
    """The ``qa ask --json`` answer to ``question``, read as a follow-up to ``history``; ``filters``
    are ``Retriever.ask``'s ``since``, ``until``, ``source`` and ``per_source``."""
    earlier = checked_history(history)
    previous = interpret_history(earlier[:-1], earlier[-1]) if earlier else None
    return retriever.ask(understand(question, previous).query, k, **filters).to_json()
