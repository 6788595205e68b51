import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from qa.cli import cli
from qa.evaluation.datasets import dataset_format, load_beir, load_squad
from qa.evaluation.metrics import beir_metrics, contains_answer
from qa.evaluation.run import evaluate

EVAL = Path(__file__).parent / "data" / "eval"
BEIR = EVAL / "beir"
SQUAD = EVAL / "squad.json"
SQUAD2 = EVAL / "squad2.json"


def test_beir_metrics_match_hand_computed_values():
    qrels = {"q1": {"d1": 1}, "q2": {"d3": 1, "d4": 1}, "q3": {"d5": 1}}
    run = {
        "q1": {"d2": 0.9, "d1": 0.8},  # the relevant document second
        "q2": {"d3": 0.9, "d5": 0.8, "d4": 0.7},  # relevant first and third
        "q3": {**{f"x{i}": 1.0 - i / 100 for i in range(10)}, "d5": 0.5},  # relevant eleventh
    }
    metrics = beir_metrics(qrels, run)
    assert metrics["q1"]["ndcg@10"] == pytest.approx(1 / math.log2(3))
    assert metrics["q1"]["mrr@10"] == pytest.approx(0.5)
    assert metrics["q2"]["ndcg@10"] == pytest.approx((1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3)))
    assert metrics["q2"]["mrr@10"] == pytest.approx(1.0)
    # Eleventh: outside nDCG@10 and MRR@10, inside Recall@100.
    assert (metrics["q3"]["ndcg@10"], metrics["q3"]["mrr@10"], metrics["q3"]["recall@100"]) == (0.0, 0.0, 1.0)


def test_beir_metrics_count_a_query_with_no_results_as_zero():
    metrics = beir_metrics({"q1": {"d1": 1}}, {})
    assert metrics["q1"] == {"ndcg@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0}


def test_loaders_read_the_fixture_datasets():
    corpus, queries, qrels = load_beir(BEIR)
    assert corpus["d4"][0] == "Caffeine and adenosine"
    assert set(queries) == {"q1", "q2", "q3"}, "only judged queries are asked"
    assert qrels["q2"] == {"d3": 1, "d4": 1}
    articles = load_squad(SQUAD)
    text, questions = articles["Honeybees"]
    assert text.startswith("A honeybee queen")
    assert [q.answers for q in questions] == [("2,000",), ("Karl von Frisch",)]
    assert dataset_format(BEIR) == "beir" and dataset_format(SQUAD) == "squad"
    with pytest.raises(ValueError, match="not a dataset"):
        dataset_format(EVAL)


def test_contains_answer_ignores_case_and_spacing():
    assert contains_answer("decoded by Karl  von\nFrisch.", ("karl von frisch",))
    assert not contains_answer("decoded by von Frisch", ("Karl von Frisch",))


def test_beir_evaluation_ranks_the_judged_documents_first(tmp_path, embedder):
    report = evaluate(BEIR, work_dir=tmp_path, embedder=embedder, progress=False)
    assert (report.queries, report.documents) == (3, 5)
    assert report.per_query["q1"]["ndcg@10"] == 1.0
    assert report.per_query["q3"]["ndcg@10"] == 1.0
    assert report.per_query["q2"]["recall@100"] == 1.0 and report.per_query["q2"]["ndcg@10"] > 0.9
    assert report.recall_at_100 == 1.0 and report.mrr_at_10 == 1.0
    # The second run reuses the cached index.
    assert report.index_seconds > 0
    assert evaluate(BEIR, work_dir=tmp_path, embedder=embedder, progress=False).index_seconds == 0.0


def test_squad_evaluation_with_a_held_out_article(tmp_path, embedder):
    report = evaluate(SQUAD, work_dir=tmp_path, holdout=1, embedder=embedder, progress=False)
    assert (report.questions, report.held_out_questions) == (4, 2)
    assert report.passage_hit_at_1 == 1.0 and report.passage_hit_at_5 == 1.0
    assert report.quote_hit_at_1 == 1.0
    assert report.answered_rate == 1.0
    assert report.refused_rate == 1.0, "questions about the sourdough article, which is not indexed"
    assert 5 < report.mean_quote_words < 25
    with pytest.raises(ValueError, match="would leave none"):
        evaluate(SQUAD, work_dir=tmp_path, holdout=3, embedder=embedder, progress=False)


def test_squad2_unanswerable_questions_are_measured_apart(tmp_path, embedder):
    report = evaluate(SQUAD2, work_dir=tmp_path, embedder=embedder, progress=False)
    assert (report.questions, report.unanswerable_questions) == (6, 1), "hit rates count answerable questions only"
    assert report.quote_hit_at_1 == 1.0 and report.answered_rate == 1.0
    assert report.refused_unanswerable_rate in (0.0, 1.0)
    unanswerable = [o for o in report.outcomes if o.question.impossible]
    assert report.refused_unanswerable_rate == float(not unanswerable[0].answered)
    assert "refused, on the same articles (1 unanswerable)" in dict(report.rows())


def test_answers_count_only_on_word_boundaries():
    assert contains_answer("It was built in 2012.", ("2012",))
    assert not contains_answer("It was built in 2012.", ("12",))
    assert contains_answer("It cost $5m in total", ("$5m",))
    assert contains_answer("made in the U.S. and", ("U.S.",))


def test_eval_command_prints_a_table_and_json(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(cli, ["eval", str(BEIR), "--no-progress"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "nDCG@10" in result.stdout and "Recall@100" in result.stdout
    assert list(Path(".cache/qa-eval").iterdir()), "the index is cached under the working folder"
    result = runner.invoke(cli, ["eval", str(BEIR), "--json", "--no-progress"], catch_exceptions=False)
    measures = json.loads(result.stdout)
    assert measures["queries"] == 3 and measures["recall_at_100"] == 1.0


def test_eval_command_errors_are_one_line(tmp_path):
    result = CliRunner().invoke(cli, ["eval", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {tmp_path} is not a dataset: give a BEIR folder")
    result = CliRunner().invoke(cli, ["eval", str(BEIR), "--holdout", "2"])
    assert (result.exit_code, result.output) == (1, "Error: A holdout applies to SQuAD-format datasets only.\n")
