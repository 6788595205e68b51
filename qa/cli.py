"""The `qa` command: a thin translation of the public API to the terminal."""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import sys

import click

from qa.errors import QAError
from qa.terminal import Terminal, format_answer, printable, printable_json

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


WRITES_INDEX = {"index"}
"""Commands that write an index: only their Ctrl+C message says the index was left as it was."""


def user_errors(command):
    """Turn library errors and bad input into one 'Error: ...' line and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except QAError as err:
            raise click.ClickException(printable(str(err))) from None
        except KeyboardInterrupt:
            left = "; the index was left as it was before this run" if command.__name__ in WRITES_INDEX else ""
            raise click.ClickException(f"Interrupted{left}.") from None

    return wrapper


class LibraryDefault(click.Option):
    """An option whose default and help text come from the library, looked up only when used.

    The library constants live next to numpy and FAISS imports; `qa --help` must not pay for them.
    """

    def __init__(self, *args, help_from=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._help_from = help_from

    def get_default(self, ctx: click.Context, call: bool = True):
        return super().get_default(ctx, call=True)  # show the value in --help, not "(dynamic)"

    def get_help_record(self, ctx: click.Context):
        if self._help_from:
            self.help = self._help_from()
        return super().get_help_record(ctx)


def _default_k() -> int:
    from qa import DEFAULT_K

    return DEFAULT_K


def _index_type_help() -> str:
    from qa.index.vectors import EXACT_MAX_VECTORS

    return (f"Vector search: exact (flat), approximate (ivf), or auto by size (exact below "
            f"{EXACT_MAX_VECTORS:,} vectors).  [default: the index's own setting, else $QA_INDEX_TYPE or auto]")


def _echo(text: str, terminal: Terminal | None = None) -> None:
    click.echo(text, color=(terminal or Terminal.of(sys.stdout)).color)


def _quiet_libraries() -> None:
    # Model loading prints its own progress bars and advisories; the CLI shows only its own.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class _SaidOnStderr(logging.Handler):
    """Log records as plain lines on stderr (the one the command runs with, also under CliRunner)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(printable(record.getMessage()), err=True)


ANNOUNCED = "qa.embed.onnx_export"
"""The logger whose INFO lines the CLI shows without -v: the model's one-time preparation, which takes a while."""


def _announce_setup(ctx: click.Context) -> None:
    logger = logging.getLogger(ANNOUNCED)
    handler, level = _SaidOnStderr(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    def undo() -> None:  # the library sets no handler or level: only while a command runs
        logger.removeHandler(handler)
        logger.setLevel(level)

    ctx.call_on_close(undo)


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="qa")
@click.option("-v", "--verbose", is_flag=True, help="Log what the library does to stderr.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """Ask questions of your own documents; every answer is quoted, cited source text.

    \b
    Typical use:
      qa index                  # index the documents in docs/ into index/
      qa ask "your question"    # quotes that answer it, with citations
      qa chat                   # the same in a browser chat page
    """
    _quiet_libraries()
    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    else:
        _announce_setup(ctx)


runtime_option = click.option(
    "--runtime", type=click.Choice(["auto", "torch", "onnx", "onnx-int8"]), default=None,
    help="What runs the model: PyTorch (torch), ONNX Runtime in fp32 (onnx) or with int8 weights (onnx-int8).  "
    "[default: the index's own, else $QA_RUNTIME or auto: torch on a GPU, else onnx-int8]",
)
index_dir_option = click.option(
    "--index-dir", type=click.Path(file_okay=False), default=None,
    help="Index folder.  [default: $QA_INDEX_DIR or index/]",
)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@index_dir_option
@click.option("--model", default=None, help="sentence-transformers model name or local folder.  "
              "[default: $QA_MODEL or the bundled all-MiniLM-L6-v2]")
@click.option("--rebuild", is_flag=True, help="Start the index from scratch instead of updating it.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@click.option("--index-type", type=click.Choice(["auto", "flat", "ivf"]), default=None, cls=LibraryDefault,
              help_from=_index_type_help)
@click.option("--follow-links", is_flag=True, help="Follow links that lead out of the folders given (not followed by default).")
@runtime_option
@click.option("--cluster", metavar="auto|local|ADDRESS", default=None,
              help="Read, split and embed on a Ray cluster: the one this machine is in (auto), a new one here "
                   "(local) or the one at ADDRESS. Needs the [cluster] extra.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Embedding workers: alone, N processes on this machine (a local Ray cluster); with --cluster, "
                   "how many the cluster runs.  [default: one per CPU, or 4 per GPU]")
@user_errors
def index(paths: tuple[str, ...], index_dir: str | None, model: str | None, rebuild: bool, as_json: bool,
          no_progress: bool, index_type: str | None, follow_links: bool, runtime: str | None, cluster: str | None,
          workers: int | None) -> None:
    """Index documents (.txt, .md, .html, .pdf, .docx, .epub, .odt) from folders and files.

    Re-running it updates the index: only new and changed files are embedded, and files
    that disappeared from the folders given are dropped. With no PATHS, indexes docs/.

    \b
    Example:
      qa index                       # docs/ into index/
      qa index ~/papers notes.md --index-dir ~/qa-index
      qa index ~/archive --cluster 10.0.0.5:6379   # on a Ray cluster
    """
    from dataclasses import asdict

    from qa import DEFAULT_DOCS_DIR, build_index
    from qa.config import default_index_dir
    from qa.index.manifest import shown

    index_dir = index_dir or default_index_dir()
    report = build_index(list(paths) or [DEFAULT_DOCS_DIR], index_dir, model=model, rebuild=rebuild,
                         progress=not no_progress, index_type=index_type, follow_links=follow_links, runtime=runtime,
                         cluster=cluster, workers=workers)
    if as_json:
        click.echo(json.dumps(asdict(report), indent=2))
        return
    click.echo(printable(
        f"Indexed {report.documents} document(s), {report.passages} passage(s) in {shown(index_dir)} "
        f"in {report.seconds:.1f} s: {report.added} added, {report.updated} updated, "
        f"{report.removed} removed, {report.unchanged} unchanged."
    ))
    if report.respaced_pages:
        click.echo(f"Read {report.respaced_pages} PDF page(s) with a second PDF library: "
                   "the first ran their words together.")
    for skipped in report.skipped:
        click.echo(printable(f"Skipped {skipped.path}: {skipped.reason}"))


@cli.command()
@click.argument("question")
@index_dir_option
@click.option("-k", "k", type=click.IntRange(min=1), default=_default_k, show_default=True, cls=LibraryDefault,
              help="How many passages to retrieve.")
@click.option("--json", "as_json", is_flag=True,
              help="Print {question, answered, quotes, passages, as_of, date_order} as JSON.")
@click.option("--full", is_flag=True, help="When not found, print the closest passages whole, not one line each.")
@click.option("--since", metavar="DATE", help="Only documents dated on or after DATE (2023-07-01; 2023-07 or 2023 "
              "for a month or year). Undated documents are left out.")
@click.option("--until", metavar="DATE", help="Only documents dated on or before DATE (2023-07-31; 2023-07 or 2023).")
@click.option("--source", "sources", metavar="PATTERN", multiple=True,
              help="Only documents whose id matches PATTERN, a glob such as 'reuters/*' (repeat for several).")
@click.option("--sources", "per_source", type=click.IntRange(min=1), metavar="N",
              help="Quote the best sentence of each of up to N documents, instead of one answer.")
@runtime_option
@user_errors
def ask(question: str, index_dir: str | None, k: int, as_json: bool, full: bool, since: str | None,
        until: str | None, sources: tuple[str, ...], per_source: int | None, runtime: str | None) -> None:
    """Answer QUESTION with quotes from the indexed documents.

    Prints each quote verbatim with its citation (file, title, date, page, character span) and
    the passage around it, or "Not found in the documents." and the closest passages, one line
    each. Text that copies of one story share is quoted once ("also in: ..."). Colour and line
    width follow the terminal; set NO_COLOR for plain text.

    \b
    Example:
      qa ask "Which administration is sending cluster munitions to Ukraine?"
      qa ask "How many were evacuated?" --since 2024-03 --source 'reports/*'
      qa ask "What do the sources say about the bridge?" --sources 4
    """
    from qa import Retriever

    retriever = Retriever.load(index_dir, runtime=runtime)
    for change in retriever.missed_changes:
        click.echo(f"qa: the index predates a change, {change}", err=True)
    answer = retriever.ask(question, k=k, since=since, until=until, source=sources or None, per_source=per_source)
    if as_json:
        click.echo(printable_json(json.dumps(answer.to_json(), indent=2, ensure_ascii=False)))
        return
    terminal = Terminal.of(sys.stdout)
    _echo(format_answer(answer, terminal, full=full), terminal)
    if not answer.answered and answer.hits and not full:
        click.echo("(--full prints the closest passages whole)", err=True)


MAX_LOGIN_CHARS = 4096
"""An --auth-file's first line is read up to this long."""


def _login(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    if param.name == "auth_file":
        try:
            with open(value, encoding="utf-8") as handle:  # the first line only: the file may be endless
                value = handle.readline(MAX_LOGIN_CHARS).rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as err:
            raise click.BadParameter(f"can't read {printable(value)}: {getattr(err, 'strerror', None) or err}") from None
    user, colon, password = value.strip().partition(":")
    if not (user and colon and password):
        raise click.BadParameter("use the form user:password")
    return user, password


@cli.command()
@index_dir_option
@click.option("--docs-dir", type=click.Path(file_okay=False), default=None,
              help="Indexed first when there is no index yet; uploads are saved here.  [default: docs/]")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port.  [default: 7860, or the next free one]")
@click.option("--share", is_flag=True, help="Also make a public gradio.live link (needs internet).")
@click.option("--auth", callback=_login, metavar="USER:PASSWORD", envvar="QA_AUTH", show_envvar=True,
              help="Require this login. Other users can read a command line (ps): prefer $QA_AUTH or --auth-file.")
@click.option("--auth-file", callback=_login, type=click.Path(dir_okay=False), metavar="FILE",
              help="Require the login user:password written on the first line of FILE.")
@user_errors
def chat(index_dir: str | None, docs_dir: str | None, host: str, port: int | None, share: bool,
         auth: tuple[str, str] | None, auth_file: tuple[str, str] | None) -> None:
    """Serve the chat page: ask questions, read quoted answers beside their highlighted sources.

    Prints the page's local URL and runs until Ctrl+C. Without an index yet, it indexes
    --docs-dir first. The /ask API endpoint returns the same JSON as `qa ask --json`.

    \b
    Example:
      qa chat
      QA_AUTH=me:secret qa chat --host 0.0.0.0 --port 8080
    """
    from qa import DEFAULT_DOCS_DIR
    from ui.app import serve

    if auth and auth_file:
        raise click.UsageError("Give the login once: --auth (or $QA_AUTH) or --auth-file, not both.")
    serve(index_dir, docs_dir=docs_dir or DEFAULT_DOCS_DIR, host=host, port=port, share=share,
          auth=auth or auth_file)


@cli.command("eval")
@click.argument("dataset", type=click.Path(exists=True))
@click.option("--index-dir", type=click.Path(file_okay=False), default=None,
              help="Index folder for the dataset.  [default: a cache folder per dataset and model under .cache/qa-eval/]")
@click.option("--holdout", type=click.IntRange(min=0), default=0, show_default=True,
              help="SQuAD only: leave the last N articles out of the index; their questions must be refused.")
@click.option("--model", default=None, help="Embedding model for a new index.  [default: $QA_MODEL or the bundled one]")
@click.option("--json", "as_json", is_flag=True, help="Print the measures as JSON.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bars.")
@runtime_option
@user_errors
def eval_(dataset: str, index_dir: str | None, holdout: int, model: str | None, as_json: bool,
          no_progress: bool, runtime: str | None) -> None:
    """Measure retrieval and answer quality on DATASET (a BEIR folder or a SQuAD .json file).

    BEIR: nDCG@10, Recall@100, MRR@10 (pytrec_eval). SQuAD: passage hit@1/@5, quote hit@1,
    words in the first quote, answered rate, and with --holdout the refused rate. The index is
    built on the first run and reused after. The README names the data sets and where to get them.

    \b
    Example:
      qa eval scifact
      qa eval xquad.en.dev.json --holdout 12
    """
    from qa.evaluation.run import evaluate

    report = evaluate(dataset, index_dir=index_dir, holdout=holdout, model=model, progress=not no_progress,
                      runtime=runtime)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
        return
    rows = report.rows()
    width = max(len(name) for name, _ in rows)
    click.echo(f"{'measure':{width}}  value")
    for name, value in rows:
        click.echo(printable(f"{name:{width}}  {value}"))
    if report.index_seconds:
        click.echo(f"(index built in {report.index_seconds:.1f} s)", err=True)


@cli.command()
@click.argument("datasets", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Where to write the model's weights.  [default: the model that ships with qa]")
@click.option("--learning-curve", is_flag=True, help="Also fit on a quarter and a half of the articles, and report.")
@click.option("--json", "as_json", is_flag=True, help="Print the out-of-fold figures as JSON.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bars.")
@user_errors
def fit(datasets: tuple[str, ...], out: str | None, learning_curve: bool, as_json: bool, no_progress: bool) -> None:
    """Fit the answer model (which sentence answers, and whether any does) on DATASETS.

    DATASETS are SQuAD 2.0 .json files of labelled questions (answerable and not) over their
    articles. Each is indexed with the bundled model (cached, as by `qa eval`), its questions'
    candidate sentences are gathered, and both models are fitted. Cross-validation grouped by
    article chooses the quote settings and the not-found threshold and prints how the model does
    on articles it was not fitted on. Needs the `[train]` extra (scikit-learn).

    \b
    Example:
      qa fit ../shared/train/bbc-news/*.json ../shared/train/squad2-fragment/*.json
    """
    from qa.answer.model import DEFAULT_MODEL_FILE
    from qa.evaluation.fit import fit_files

    report = fit_files(datasets, out=out or DEFAULT_MODEL_FILE, progress=not no_progress,
                       learning_curve=learning_curve)
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(report), indent=2))
        return
    click.echo(f"neighbour margin {report.margin}, not-found threshold {report.threshold:.3f}")
    curves = report.learning_curve or {"1.0": report.by_dataset}
    for fraction, by_dataset in curves.items():
        for name, figures in by_dataset.items():
            shown = ", ".join(f"{key} {value:.3f}" for key, value in figures.items() if value is not None)
            click.echo(printable(f"out of fold, {fraction} of the articles, {name}: {shown}"))
    click.echo(f"Saved to {out or DEFAULT_MODEL_FILE}", err=True)


def main() -> None:
    cli(prog_name="qa")


if __name__ == "__main__":
    main()
