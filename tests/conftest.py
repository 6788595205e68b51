"""Shared fixtures: the real bundled model, loaded once, and a real index of tests/data."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from qa import Embedder, Retriever, build_index

DATA = Path(__file__).parent / "data"
# ONNX exports of the bundled model, kept between runs (git-ignored) and out of the user's cache.
os.environ["QA_CACHE_DIR"] = str(Path(__file__).parent.parent / ".cache" / "qa-models")
BUNDLED_ARTICLE = Path(__file__).parent.parent / "docs" / "nato-cluster-munitions.txt"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests start `qa chat` and Chromium: they are slow too, so `-m "not slow"` leaves them out."""
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def isolated_index_dir(tmp_path, monkeypatch):
    """Tests never touch the project's own index/."""
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path / "default-index"))


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory) -> Path:
    """tests/data plus the bundled article, copied so tests may not change the originals."""
    folder = tmp_path_factory.mktemp("corpus")
    for path in DATA.iterdir():
        if path.is_file():
            shutil.copy(path, folder / path.name)
    shutil.copy(BUNDLED_ARTICLE, folder / BUNDLED_ARTICLE.name)
    return folder


def built_index(tmp_path_factory, name: str, documents: Path, embedder: Embedder) -> Path:
    """A new index folder of ``documents``, built with the session's model."""
    folder = tmp_path_factory.mktemp(name)
    build_index([documents], folder, embedder=embedder, progress=False)
    return folder


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory, corpus_dir, embedder) -> Path:
    return built_index(tmp_path_factory, "index", corpus_dir, embedder)


@pytest.fixture(scope="session")
def retriever(index_dir, embedder) -> Retriever:
    return Retriever.load(index_dir, embedder=embedder)


NEWS = DATA / "news"
"""Dated articles written for these tests: one wire story saved three times (txt, md, html) and
two outlets' own reports of a flood, dated four days apart, with different figures."""


@pytest.fixture(scope="session")
def news_index(tmp_path_factory, embedder) -> Path:
    return built_index(tmp_path_factory, "news-index", NEWS, embedder)


@pytest.fixture(scope="session")
def news(news_index, embedder) -> Retriever:
    return Retriever.load(news_index, embedder=embedder)
