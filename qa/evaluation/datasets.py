"""The datasets `qa eval` reads: BEIR folders and SQuAD v1/v2 files."""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path

from qa.errors import InvalidInput


@dataclass(frozen=True)
class Question:
    """A question, the article it was asked of, and its gold answer texts."""

    text: str
    article: str
    answers: tuple[str, ...]
    impossible: bool = False
    """SQuAD 2.0: no article answers it, so it must be refused."""


def dataset_format(path: str | os.PathLike) -> str:
    """"beir" or "squad"; raises InvalidInput for anything else."""
    path = Path(path)
    if path.is_dir() and (path / "corpus.jsonl").is_file():
        return "beir"
    if path.is_file() and path.suffix == ".json":
        return "squad"
    raise InvalidInput(
        f"{path} is not a dataset: give a BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv) "
        "or a SQuAD-format .json file."
    )


def load_beir(folder: str | os.PathLike, split: str = "test") -> tuple[dict[str, tuple[str, str]], dict[str, str],
                                                                        dict[str, dict[str, int]]]:
    """(corpus id -> (title, text), query id -> text, qrels query id -> {corpus id: relevance})."""
    folder = Path(folder)
    corpus = {}
    with open(folder / "corpus.jsonl", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                corpus[str(row["_id"])] = (row.get("title") or "", row.get("text") or "")
    qrels: dict[str, dict[str, int]] = {}
    with open(folder / "qrels" / f"{split}.tsv", encoding="utf-8") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if len(row) < 3 or not row[2].strip().lstrip("-").isdigit():
                continue  # the header
            qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    queries = {}
    with open(folder / "queries.jsonl", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                if str(row["_id"]) in qrels:
                    queries[str(row["_id"])] = row["text"]
    return corpus, queries, qrels


def load_squad(path: str | os.PathLike) -> dict[str, tuple[str, list[Question]]]:
    """Articles of a SQuAD v1 or v2 file: title -> (text, questions)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    articles = {}
    for article in data:
        title = article["title"]
        text = "\n\n".join(p["context"] for p in article["paragraphs"])
        questions = [
            Question(qa["question"], title, tuple(a["text"] for a in qa["answers"]), bool(qa.get("is_impossible")))
            for p in article["paragraphs"]
            for qa in p["qas"]
        ]
        articles[title] = (text, questions)
    return articles
