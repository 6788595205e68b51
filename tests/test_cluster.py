"""`qa index --cluster`: a real Ray cluster on this machine (a head and a worker node, each started
with `ray start` as its own processes) builds the index a single process builds."""

import contextlib
import http.server
import importlib.util
import json
import logging
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from qa import Retriever, build_index
from qa.cli import cli
from qa.index.cluster import INSTALL_HINT
from qa.index.manifest import MANIFEST
from qa.index.vectors import contents, read

REPO = Path(__file__).resolve().parent.parent
NODE_OPTIONS = ["--block", "--num-cpus=1", f"--object-store-memory={80 * 2**20}", "--disable-usage-stats"]
CLUSTER_START_TIMEOUT_S = 240

needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="needs the [cluster] extra")


@pytest.mark.parametrize("option", [["--cluster", "local"], ["--workers", "2"]])
def test_without_ray_the_cluster_options_say_how_to_install_it(tmp_path, corpus_dir, monkeypatch, option):
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` does where it is not installed
    index = tmp_path / "index"
    result = CliRunner().invoke(cli, ["index", str(corpus_dir), "--index-dir", str(index), *option])
    assert result.exit_code == 1
    assert result.output == f"Error: {INSTALL_HINT}\n"
    assert not index.exists()


@pytest.mark.slow
def test_qa_help_does_not_import_ray():
    code = ("import sys; from click.testing import CliRunner; from qa.cli import cli; "
            "result = CliRunner().invoke(cli, ['index', '--help']); "
            "print(result.exit_code, '--cluster' in result.output, 'ray' in sys.modules)")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert shown.stdout.split() == ["0", "True", "False"], shown.stderr


@pytest.mark.slow
@needs_ray
def test_an_address_where_no_cluster_listens_fails_at_once_with_one_line(tmp_path, corpus_dir):
    address = f"127.0.0.1:{_free_port()}"
    index = tmp_path / "index"
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "qa", "index", str(corpus_dir), "--index-dir", str(index),
                          "--cluster", address], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert run.returncode == 1
    assert run.stderr.splitlines() == [f"Error: Can't reach the Ray cluster at {address} (Connection refused). Check "
                                       "the address and that `ray start --head` runs there, or use --cluster local."]
    assert time.monotonic() - started < 60
    assert not index.exists()


@pytest.mark.slow
@needs_ray
def test_an_address_that_is_not_a_ray_head_fails_at_once_with_one_line(tmp_path, corpus_dir):
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)  # answers, but not gRPC
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = f"127.0.0.1:{server.server_address[1]}"
    try:
        started = time.monotonic()
        run = subprocess.run([sys.executable, "-m", "qa", "index", str(corpus_dir), "--index-dir",
                              str(tmp_path / "index"), "--cluster", address], capture_output=True, text=True,
                             timeout=120, cwd=REPO)
    finally:
        server.shutdown()
    assert run.returncode == 1 and time.monotonic() - started < 60
    assert run.stderr.splitlines() == [f"Error: {address} answers, but not as a Ray cluster's head. Check the address: "
                                       "the head listens on port 6379 unless `ray start --head --port` said otherwise."]


def _processes_naming(folder: str) -> dict[int, str]:
    named = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if folder in command:
            named[int(pid)] = command
    return named


@pytest.mark.slow
def test_a_killed_local_cluster_run_leaves_no_ray_process_behind(tmp_path, corpus_dir):
    if importlib.util.find_spec("ray") is None:
        pytest.skip("needs the [cluster] extra")
    temp = tempfile.mkdtemp(prefix="qa-ray-")  # short: Ray's socket paths live under it
    env = {**os.environ, "RAY_TMPDIR": temp}
    run = subprocess.Popen([sys.executable, "-m", "qa", "index", str(corpus_dir), "--index-dir", str(tmp_path / "index"),
                            "--cluster", "local", "--workers", "1", "--no-progress"], env=env, cwd=REPO,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + CLUSTER_START_TIMEOUT_S
        while not any("default_worker.py" in c for c in _processes_naming(temp).values()):  # an embedding worker
            assert time.monotonic() < deadline and run.poll() is None, "no Ray worker started"
            time.sleep(0.2)
        run.kill()
        run.wait()
        killed = time.monotonic()
        while _processes_naming(temp) and time.monotonic() - killed < 10:
            time.sleep(0.2)
        assert list(_processes_naming(temp).values()) == []
    finally:
        if run.poll() is None:
            run.kill()
        for pid in _processes_naming(temp):  # what this test started and the run left
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(temp, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("", 0))  # Ray's head listens on every address
        return probe.getsockname()[1]


def _start_node(arguments: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    ray = Path(sys.executable).with_name("ray")
    with open(log, "wb") as output:  # each node in its own process group, so the whole node can be killed
        return subprocess.Popen([str(ray), "start", *arguments, *NODE_OPTIONS], env=env, stdout=output,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


def _stop_node(node: subprocess.Popen) -> None:
    if node.returncode is not None:  # stopped already: its process group id may be another's by now
        return
    try:
        os.killpg(node.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    node.wait(timeout=60)


@pytest.fixture(scope="module")
def ray_cluster():
    """The address of a Ray head with one more worker node, one CPU each, both on loopback addresses
    (127.0.0.2 and 127.0.0.3: Ray swaps 127.0.0.1 for the machine's network address), with Ray's
    token authentication; ``ray_cluster.worker`` is the worker node's `ray start` process."""
    if importlib.util.find_spec("ray") is None:
        pytest.skip("needs the [cluster] extra")
    temp = Path(tempfile.mkdtemp(prefix="qa-ray-"))  # short: Ray's socket paths live under it
    settings = {"RAY_AUTH_MODE": "token", "RAY_TMPDIR": str(temp)}  # ray_current_cluster goes to temp too
    env = {**os.environ, **settings,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    nodes: list[subprocess.Popen] = []
    with pytest.MonkeyPatch.context() as patch:
        for name, value in settings.items():  # for this process too, which connects as a driver
            patch.setenv(name, value)
        assert "ray" not in sys.modules, "Ray reads RAY_AUTH_MODE when imported: nothing may import it before"
        import ray

        try:
            address = f"127.0.0.2:{_free_port()}"
            nodes.append(_start_node(["--head", f"--port={address.split(':')[1]}", "--node-ip-address=127.0.0.2",
                                      f"--temp-dir={temp}", "--include-dashboard=false"], env, temp / "head.log"))
            nodes.append(_start_node([f"--address={address}", "--node-ip-address=127.0.0.3"], env,
                                     temp / "worker.log"))
            _wait_for_nodes(ray, address, 2, nodes, temp)
            yield _Cluster(address, nodes[1])
        finally:
            if ray.is_initialized():
                ray.shutdown()
            for node in reversed(nodes):
                _stop_node(node)
            shutil.rmtree(temp, ignore_errors=True)


def _wait_for_loaded_worker(node: subprocess.Popen, timeout: float = 180) -> None:
    """Until an embedding worker of this node has loaded the model (Ray titles its process
    ``ray::_EmbeddingWorker.__init__`` while it loads), so killing the node kills work qa counts on."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                title = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
                parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
                in_node = os.getpgid(parent) == node.pid  # Ray's workers have groups of their own; raylet has not
            except (OSError, ValueError, IndexError):
                continue
            if in_node and title.startswith("ray::_EmbeddingWorker") and "__init__" not in title:
                return
        time.sleep(0.2)
    pytest.fail("the worker node's embedding worker did not load the model")


class _Cluster(str):
    worker: subprocess.Popen

    def __new__(cls, address: str, worker: subprocess.Popen):
        cluster = super().__new__(cls, address)
        cluster.worker = worker
        return cluster


def _wait_for_nodes(ray, address: str, count: int, nodes: list[subprocess.Popen], temp: Path) -> None:
    deadline = time.monotonic() + CLUSTER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if any(node.poll() is not None for node in nodes):
            break
        try:
            if not ray.is_initialized():
                ray.init(address=address, logging_level="ERROR", log_to_driver=False)
            if sum(node["Alive"] for node in ray.nodes()) == count:
                ray.shutdown()  # qa connects by itself
                return
        except ConnectionError:
            pass
        time.sleep(1)
    logs = "\n".join(path.read_text(errors="replace")[-2000:] for path in temp.glob("*.log"))
    pytest.fail(f"the Ray cluster did not start with {count} nodes:\n{logs}")


def index_contents(index: Path) -> tuple[dict, dict, dict]:
    """(documents, passages, sentences) of an index, keyed by source and span, never by vector id:
    documents map to their row and manifest record, passages to (page, sentence spans, vector),
    sentences to their vector."""
    manifest = json.loads((index / MANIFEST).read_text())
    db = sqlite3.connect(index / manifest["files"]["store"])
    try:
        documents = {row[0]: (row, manifest["documents"][row[0]])
                     for row in db.execute("SELECT source, title, path, text, pages, metadata FROM documents")}
        vectors = {}
        for name in ("passages", "sentences"):
            ids, found = contents(read(index / manifest["files"][name], mmap=False))
            vectors[name] = dict(zip(ids.tolist(), found))
        passages = {(source, start, end): (page, [tuple(triple[1:]) for triple in json.loads(triples)],
                                           vectors["passages"][pid])
                    for pid, source, start, end, page, triples in db.execute("SELECT * FROM passages")}
        sentences = {(source, start, end): vectors["sentences"][sid]
                     for sid, source, start, end in db.execute("SELECT id, source, start, end FROM sentences")}
    finally:
        db.close()
    return documents, passages, sentences


def assert_same_index(actual: Path, expected: Path) -> None:
    """Same documents, passages, sentences and offsets; vectors within 1e-5."""
    documents, passages, sentences = index_contents(actual)
    expected_documents, expected_passages, expected_sentences = index_contents(expected)
    assert documents == expected_documents
    assert passages.keys() == expected_passages.keys() and sentences.keys() == expected_sentences.keys()
    for key, (page, spans, vector) in expected_passages.items():
        assert passages[key][:2] == (page, spans), key
        np.testing.assert_allclose(passages[key][2], vector, atol=1e-5, rtol=0)
    for key, vector in expected_sentences.items():
        np.testing.assert_allclose(sentences[key], vector, atol=1e-5, rtol=0)


QUESTIONS = ("When was the Kestrel Lighthouse built?", "Which administration is sending cluster munitions to Ukraine?")
FP32 = "onnx"
"""The runtime of these tests' indexes. Vectors must agree to 1e-5 in fp32; onnx-int8 quantises
activations per batch, so its vectors move with whatever else a batch holds (up to ~0.016 between
an incremental and a fresh build, cluster or not)."""


def answers(index: Path) -> list:
    retriever = Retriever.load(index)
    return [retriever.ask(question).to_json() for question in QUESTIONS]


@pytest.mark.slow
def test_a_cluster_builds_and_updates_the_index_a_single_process_builds(ray_cluster, tmp_path, corpus_dir):
    single, on_cluster = tmp_path / "single", tmp_path / "on-cluster"
    build_index([corpus_dir], single, runtime=FP32, progress=False)
    result = CliRunner().invoke(cli, ["index", str(corpus_dir), "--index-dir", str(on_cluster), "--runtime", FP32,
                                      "--cluster", ray_cluster, "--json", "--no-progress"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["documents"], report["added"], report["skipped"]) == (5, 5, [])
    assert_same_index(on_cluster, single)
    assert answers(on_cluster) == answers(single)

    docs, updated = tmp_path / "docs", tmp_path / "updated"
    shutil.copytree(corpus_dir, docs)
    build_index([docs], updated, runtime=FP32, progress=False)
    (docs / "owls.txt").write_text("Barn owls swallow their prey whole and later cough up pellets of fur and bone.\n")
    (docs / "honeybees.md").unlink()
    (docs / "empty.txt").write_text("")
    update = build_index([docs], updated, cluster=ray_cluster, progress=False)  # in the index's runtime
    assert (update.added, update.updated, update.removed, update.unchanged) == (1, 0, 1, 4)
    assert [(Path(s.path).name, s.reason) for s in update.skipped] == [("empty.txt", "empty file")]
    build_index([docs], tmp_path / "fresh", runtime=FP32, progress=False)
    assert_same_index(updated, tmp_path / "fresh")


@pytest.mark.slow
def test_a_worker_node_killed_mid_build_the_build_finishes_and_the_old_index_answers_meanwhile(
        ray_cluster, tmp_path, corpus_dir, monkeypatch, caplog, capsys):
    caplog.set_level(logging.INFO, logger="qa.index.cluster")
    docs, index = tmp_path / "docs", tmp_path / "index"
    for copy in ("a", "b"):
        shutil.copytree(corpus_dir, docs / copy)
    build_index([docs], index, runtime=FP32, progress=False)
    shutil.copytree(index, tmp_path / "single")
    before = answers(index)
    retriever = Retriever.load(index)
    # Each file its own batch: of ten, five at most are out before the first comes back and the node is
    # killed (once its worker is ready), so some go to the dead node's worker and must be sent again.
    monkeypatch.setattr("qa.index.feed.EMBED_BATCH_SENTENCES", 1)
    meanwhile = []

    def kill_the_worker_node(point: str) -> None:
        if point == "embedding" and not meanwhile:
            _wait_for_loaded_worker(ray_cluster.worker)
            _stop_node(ray_cluster.worker)
            meanwhile.append(retriever.ask(QUESTIONS[0]).to_json())

    report = build_index([docs], index, cluster=ray_cluster, rebuild=True, runtime=FP32, progress=False,
                         checkpoint=kill_the_worker_node)
    assert meanwhile == before[:1]  # the previous index answered while the node was gone
    assert "an embedding worker died" in caplog.text  # its batches went to the head's worker
    assert capsys.readouterr().out == ""  # Ray's notes on the dead node's tasks went to stderr, not stdout
    assert (report.documents, report.added) == (10, 10)
    assert_same_index(index, tmp_path / "single")
    assert [retriever.ask(question).to_json() for question in QUESTIONS] == before
