"""``qa index --cluster``: read, split and embed on a Ray cluster; plan and write here.

This process alone holds the lock and writes, and results are taken in the files' order, so the
index is the one a plain run writes. Every node needs the same qa and model installed and must see
the documents at the same path. A Ray cluster trusts its nodes (objects travel between them
pickled): run it on machines you control.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import itertools
import logging
import math
import os
import socket
import subprocess
import sys
import tempfile
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.config import VERSION, max_text_bytes, read_timeout
from qa.embed.model import Embedder
from qa.errors import InvalidInput, QAError, UnsupportedDocument
from qa.format_history import CHANGES
from qa.index.feed import Build, EmbeddedFile, FileSource, embed_in_order, read_and_split
from qa.read.files import SourceFile, file_hash

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

INSTALL_HINT = 'Indexing on a cluster needs Ray: pip install -e ".[cluster]" (or pip install "ray>=2.60,<3").'
FILES_PER_TASK = 8
"""Files read and split by one Ray task, at most (fewer when there are few files to spread)."""
TASKS_PER_READER = 2
"""Reading tasks out at once per CPU left for reading (or per embedding worker, when none is)."""
BATCHES_PER_WORKER = 2
"""Batches sent to each embedding worker at once: one to run, one waiting, so it never idles."""
WORKERS_PER_GPU = 4
"""Embedding workers per GPU by default: one process's tokenising, not the GPU, limits its rate."""
WORKER_START_TIMEOUT_S = 300.0
"""How long to wait for an embedding worker to load the model before giving up."""
BATCH_TRIES = 3
"""A batch whose worker dies is sent to another; after this many tries the build fails."""


class ClusterError(QAError):
    """The Ray cluster could not be reached, or could not do the work."""


def cluster_source(cluster: str | None, workers: int | None) -> FileSource:
    """The file source for ``build_index(cluster=..., workers=...)``; checks them and that Ray is installed.

    ``cluster`` is ``auto`` (the cluster this machine belongs to), ``local`` (start one in this
    process, with ``workers`` CPUs if given) or the address of a cluster's head; None means local.
    """
    if cluster is not None and not (isinstance(cluster, str) and cluster.strip()):
        raise InvalidInput("The cluster must be auto, local or a Ray address such as 10.0.0.5:6379.")
    if workers is not None and workers < 1:
        raise InvalidInput(f"The number of workers must be at least 1, not {workers}.")
    if importlib.util.find_spec("ray") is None:
        raise ClusterError(INSTALL_HINT)
    if cluster is not None and cluster.strip() not in ("auto", "local"):
        _check_reachable(cluster.strip())
    return functools.partial(_embed_on_cluster, (cluster or "local").strip(), workers)


def _embed_on_cluster(cluster: str, workers: int | None, files: list[tuple[SourceFile, str]],
                      build: Build) -> Iterator[EmbeddedFile]:
    runtime = build.embedder.runtime  # the index's: its vectors all come from one runtime
    # Ray prints its workers' and nodes' failures to stdout from a thread; stdout is the caller's
    # (`qa index --json`), so while Ray runs here they go to stderr.
    with contextlib.redirect_stdout(sys.stderr), _connected(cluster, workers) as ray:
        pool = _WorkerPool(ray, build.model, runtime, workers)
        try:
            dimension = pool.dimension()
            if build.dimension not in (None, dimension):
                raise ClusterError(f"The cluster's {build.model} makes vectors of {dimension} numbers, "
                                   f"the index holds {build.dimension}: install the same model on every node.")
            build.dimension = dimension
            reads = _read_on_cluster(ray, files, pool)
            yield from embed_in_order(reads, pool.submit, build.checkpoint, ahead=pool.batches_ahead)
        except ray.exceptions.RayError as err:  # what Ray's own retries could not get past
            raise ClusterError(f"The Ray cluster failed: {_first_line(err)}") from None
        finally:
            pool.close()


@contextlib.contextmanager
def _connected(cluster: str, workers: int | None) -> Iterator[Any]:
    """The ray module, connected to the cluster asked for (or to the one this process already is)."""
    local = cluster == "local"
    with contextlib.ExitStack() as running:
        with _loopback_only(local):
            import ray

            if ray.is_initialized():
                yield ray
                return
            options = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR}
            try:
                if local:
                    ray.init(num_cpus=workers, _temp_dir=running.enter_context(_watched_folder()), **options)
                else:
                    ray.init(address=cluster, **options)
            except ConnectionError as err:
                if _refused_token(err):
                    raise ClusterError(f"The Ray cluster at {cluster} wants its token: set RAY_AUTH_MODE=token, with "
                                       "the token in ~/.ray/auth_token or $RAY_AUTH_TOKEN.") from err
                if cluster == "auto":
                    raise ClusterError("No Ray cluster is running on this machine: start one with `ray start --head`, "
                                       "give its address, or use --cluster local.") from err
                raise ClusterError(f"Can't connect to the Ray cluster at {cluster}: {_first_line(err)}") from err
            except Exception as err:  # Ray raises many kinds for a bad address or a version mismatch
                raise ClusterError(f"Can't start or join the Ray cluster '{cluster}': {_first_line(err)}") from err
        try:
            yield ray
        finally:
            ray.shutdown()


@contextlib.contextmanager
def _watched_folder() -> Iterator[str]:
    """A new folder for a local cluster's files, and a watchdog (``qa/index/cluster_watchdog.py``) that ends the
    processes naming it and removes it once this block is left or this process is gone, even by kill -9."""
    folder = tempfile.mkdtemp(prefix="qa-ray-", dir=os.environ.get("RAY_TMPDIR"))  # short: Ray's socket paths
    script = Path(__file__).with_name("cluster_watchdog.py")
    # A session of its own: killing this process's group must not take the watchdog with it.
    watchdog = subprocess.Popen([sys.executable, str(script), folder], stdin=subprocess.PIPE, start_new_session=True)
    try:
        yield folder
    finally:
        watchdog.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            watchdog.wait(timeout=10)


CONNECT_TIMEOUT_S = 5.0
"""How long to wait for a cluster's head to accept a connection and answer before saying it can't be
reached (Ray itself retries an address that refuses, or that is not a head, for minutes)."""
_HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])  # and empty SETTINGS
_SETTINGS = 4


def _check_reachable(cluster: str) -> None:
    """ClusterError unless the head at ``cluster`` (``host:port``, maybe ``ray://``) accepts a connection and
    answers as a gRPC server (as Ray's head does) within :data:`CONNECT_TIMEOUT_S`."""
    host, colon, port = cluster.removeprefix("ray://").rpartition(":")
    if not (colon and host and port.isdigit()):
        return  # not host:port: Ray says what is wrong with it
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S) as head:
            speaks_grpc = _answers_http2(head)
    except (OSError, ValueError) as err:
        reason = "no answer" if isinstance(err, TimeoutError) else getattr(err, "strerror", None) or str(err)
        raise ClusterError(f"Can't reach the Ray cluster at {cluster} ({reason}). Check the address and that "
                           "`ray start --head` runs there, or use --cluster local.") from None
    if not speaks_grpc:
        raise ClusterError(f"{cluster} answers, but not as a Ray cluster's head. Check the address: the head "
                           "listens on port 6379 unless `ray start --head --port` said otherwise.")


def _answers_http2(connection: socket.socket) -> bool:
    """Whether the server answers an HTTP/2 client's opening with a SETTINGS frame, as every gRPC server does."""
    if os.environ.get("RAY_USE_TLS", "0").lower() in ("1", "true"):
        return True  # a TLS handshake would come first: Ray checks that address itself
    connection.sendall(_HTTP2_PREFACE)
    header = b""
    while len(header) < 9:  # a frame header: length (3 bytes), type, flags, stream (4)
        chunk = connection.recv(9 - len(header))
        if not chunk:
            return False
        header += chunk
    return header[3] == _SETTINGS


def _refused_token(err: BaseException | None) -> bool:
    """Whether Ray's token authentication is what refused the connection (it says so deep in the chain)."""
    while err is not None:
        if type(err).__name__ == "AuthenticationError":
            return True
        err = err.__cause__ or err.__context__
    return False


@contextlib.contextmanager
def _loopback_only(local: bool) -> Iterator[None]:
    """A local cluster started here names itself 127.0.0.1 (Ray reads this when it is imported,
    and its processes inherit it), so nothing of it is addressed through the network."""
    name = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
    before = os.environ.get(name)
    if local and before is None:
        os.environ[name] = "0"
    try:
        yield
    finally:
        if local and before is None:
            os.environ.pop(name, None)


def _worker_env() -> dict[str, str]:
    """The limits this process reads files under, for every Ray worker (their own $QA_* may differ)."""
    return {"env_vars": {"QA_MAX_TEXT_MB": repr(max_text_bytes() / 2**20), "QA_READ_TIMEOUT": repr(read_timeout())}}


class _WorkerPool:
    """Ray actors that each hold the model; a batch goes to the least busy ready one, and to
    another when its worker dies (a replacement is started for each one lost)."""

    def __init__(self, ray: Any, model: str, runtime: str, workers: int | None) -> None:
        self.ray, self.model, self.runtime = ray, model, runtime
        resources = ray.cluster_resources()
        cpus, gpus = resources.get("CPU", 0.0), resources.get("GPU", 0.0)
        if gpus > 0 and runtime == "torch":  # the ONNX runtimes run on CPUs only
            count = workers or max(1, math.floor(gpus * WORKERS_PER_GPU))
            self._options = {"num_gpus": min(1.0, gpus / count), "num_cpus": min(1.0, cpus / count)}
        else:
            count = workers or max(1, math.floor(cpus))
            self._options = {"num_cpus": min(1.0, cpus / count)}
        spare = math.floor(cpus - count * self._options["num_cpus"])
        # With no CPU left over, reading takes no CPU of its own: it is a small part of the work.
        self.read_cpus = 1 if spare >= 1 else 0
        self.reads_ahead = TASKS_PER_READER * max(spare, count)
        self.batches_ahead = BATCHES_PER_WORKER * count
        self._actor_class = ray.remote(_EmbeddingWorker).options(
            **self._options, max_restarts=0, runtime_env=_worker_env())
        self._starting: dict[Any, Any] = {}  # ready() reference -> actor
        self._busy: dict[Any, int] = {}  # ready actor -> batches it holds
        self._replacements = count
        errors = ray.exceptions
        self.lost_errors = (errors.RayActorError, errors.ObjectLostError, errors.WorkerCrashedError,
                            errors.NodeDiedError)
        for _ in range(count):
            self._start()
        logger.info("%d embedding workers (%s each)", count, self._options)

    def _start(self) -> None:
        actor = self._actor_class.remote(self.model, self.runtime)
        self._starting[actor.ready.remote()] = actor

    def _take_ready(self, timeout: float) -> None:
        """Move the workers that finished loading into the pool, waiting up to ``timeout`` for one."""
        refs = list(self._starting)
        if not refs or not self.ray.wait(refs, num_returns=1, timeout=timeout)[0]:
            return
        for ref in self.ray.wait(refs, num_returns=len(refs), timeout=0)[0]:
            actor = self._starting.pop(ref)
            try:
                self._dimension = _get(self.ray, ref)
            except self.lost_errors as err:  # its node died while it loaded
                self._replace(err)
                continue
            self._busy[actor] = 0

    def dimension(self) -> int:
        """The model's vector length, once a first worker has loaded it."""
        self._take_ready(WORKER_START_TIMEOUT_S)
        if not self._busy:
            raise self._none_left()
        return self._dimension

    def submit(self, texts: list[str]) -> _Batch:
        return _Batch(self, self.ray.put(texts))

    def send(self, texts: Any) -> tuple[Any, Any]:
        """(actor, reference to the vectors) for a batch put in the object store."""
        self._take_ready(0 if self._busy else WORKER_START_TIMEOUT_S)
        if not self._busy:
            raise self._none_left()
        actor = min(self._busy, key=self._busy.get)
        self._busy[actor] += 1
        return actor, actor.encode.remote(texts)

    def done(self, actor: Any) -> None:
        if actor in self._busy:
            self._busy[actor] -= 1

    def lost(self, actor: Any, err: BaseException) -> None:
        """A worker died (or its node did): forget it, and start another where there is room."""
        if self._busy.pop(actor, None) is not None:
            with contextlib.suppress(Exception):
                self.ray.kill(actor)
            self._replace(err)

    def _replace(self, err: BaseException) -> None:
        if self._replacements <= 0:  # workers that die as fast as they start: give up rather than loop
            raise ClusterError(f"Too many embedding workers died on the Ray cluster: {_first_line(err)}")
        self._replacements -= 1
        logger.info("an embedding worker died (%s); starting another", _first_line(err))
        self._start()

    def _none_left(self) -> ClusterError:
        return ClusterError(f"No embedding worker could load {self.model} ({self.runtime}) on the Ray cluster "
                            f"within {WORKER_START_TIMEOUT_S:g} s (each needs {self._options}); add a node or free some.")

    def close(self) -> None:
        for actor in [*self._busy, *self._starting.values()]:
            with contextlib.suppress(Exception):
                self.ray.kill(actor)
        self._busy.clear()
        self._starting.clear()


class _Batch:
    """Sentences sent to an embedding worker; ``result()`` waits for their vectors."""

    def __init__(self, pool: _WorkerPool, texts: Any) -> None:
        self._pool, self._texts = pool, texts
        self._actor, self._vectors = pool.send(texts)

    def result(self) -> np.ndarray:
        tries = 1
        while True:
            actor = self._actor
            try:
                vectors = _get(self._pool.ray, self._vectors)
            except self._pool.lost_errors as err:
                self._pool.lost(actor, err)
                if tries == BATCH_TRIES:
                    raise ClusterError(f"Embedding workers died {tries} times on the same batch: "
                                       f"{_first_line(err)}") from None
                tries += 1
                self._actor, self._vectors = self._pool.send(self._texts)
                continue
            self._pool.done(actor)
            return vectors


class _EmbeddingWorker:
    """A Ray actor holding the model (on its GPU, if Ray gave it one), as this process's Embedder would."""

    def __init__(self, model: str, runtime: str) -> None:
        self._error: QAError | None = None
        try:
            self._embedder = Embedder(model, runtime=runtime)
            self._dimension = self._embedder.dimension
        except QAError as err:  # reported by ready(), as the error itself
            self._error = err

    def ready(self) -> int:
        if self._error is not None:
            raise self._error
        return self._dimension

    def encode(self, texts: list[str]) -> np.ndarray:
        return self._embedder.encode(texts)


def _read_on_cluster(ray: Any, files: list[tuple[SourceFile, str]], pool: _WorkerPool) -> Iterator[tuple]:
    """(file, digest, document, passages, sentences) per file, in order, read and split by Ray tasks."""
    read = ray.remote(_read_files).options(num_cpus=pool.read_cpus, scheduling_strategy="SPREAD",
                                           runtime_env=_worker_env())
    size = max(1, min(FILES_PER_TASK, math.ceil(len(files) / (2 * pool.reads_ahead))))
    chunks = (files[start : start + size] for start in range(0, len(files), size))
    expected = (VERSION, len(CHANGES))
    out = deque(read.remote(chunk, expected) for chunk in itertools.islice(chunks, pool.reads_ahead))
    while out:
        results = _get(ray, out.popleft())
        out.extend(read.remote(chunk, expected) for chunk in itertools.islice(chunks, 1))
        yield from results


def _read_files(chunk: list[tuple[SourceFile, str]], expected: tuple[str, int]) -> list[tuple]:
    """A Ray task: read and split files as :func:`qa.index.feed.read_and_split` does here.

    The digest returned is of the file this node read, so the index records what it holds.
    """
    import ray

    node = ray.util.get_node_ip_address()
    if (VERSION, len(CHANGES)) != expected:
        raise ClusterError(f"Ray node {node} runs qa {VERSION} (format history {len(CHANGES)}), this machine "
                           f"qa {expected[0]} (history {expected[1]}): install the same qa on every node.")
    results = []
    for file, digest in chunk:
        try:
            digest = file_hash(file.path)
        except OSError as err:  # not held against the file: it may be there for the next run
            reason = f"can't read it on Ray node {node} ({err.strerror}); every node must see the documents " \
                     "at the same path"
            results.append((file, digest, UnsupportedDocument(reason, transient=True), None, None))
            continue
        results.append((file, digest, *read_and_split(file)))
    return results


def _get(ray: Any, ref: Any) -> Any:
    """``ray.get``, with an error raised by qa's code on a worker raised here as itself."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as err:
        cause = getattr(err, "cause", None)
        if isinstance(cause, QAError):
            raise cause from None
        hint = " (every node needs qa installed, the same version as here)" if isinstance(cause, ImportError) else ""
        raise ClusterError(f"A Ray worker failed: {_first_line(cause or err)}{hint}") from None


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text.splitlines()[0]}" if text else type(err).__name__

