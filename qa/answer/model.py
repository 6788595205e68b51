"""The fitted answer model: a ranker over a question's candidate sentences, and the probability
that the documents answer the question. Plain numpy at run time; fitted by ``qa fit``."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.answer.features import ANSWER_FEATURES, SENTENCE_FEATURES
from qa.errors import QAError

MODEL_FORMAT = 1
"""Version of the weights file's layout."""
DEFAULT_MODEL_FILE = Path(__file__).with_name("answer_model.json")


class QuoteScorer(Protocol):
    """What chooses quotes and decides "not found": any model with these members will do (a
    cross-encoder, say, where one can be had)."""

    @property
    def threshold(self) -> float:
        """Below this answerability the answer is "not found"."""

    @property
    def neighbour_margin(self) -> float:
        """A quote takes in the sentence beside it when that one's probability is within this margin of its own."""

    def rank(self, features: np.ndarray) -> np.ndarray:
        """Each candidate sentence's probability of holding the answer (a row of ``SENTENCE_FEATURES`` each)."""

    def answerable(self, features: np.ndarray) -> float:
        """The probability that the documents answer the question, from its ``ANSWER_FEATURES``."""


@dataclass(frozen=True)
class Linear:
    """A linear model over standardised features: ``((x - mean) / scale) @ weights + bias``."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float = 0.0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.weights + self.bias

    def to_json(self) -> dict:
        return {"features": list(self.features), "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "weights": self.weights.tolist(), "bias": self.bias}

    @classmethod
    def from_json(cls, data: dict) -> Linear:
        arrays = [np.asarray(data[key], dtype=np.float64) for key in ("mean", "scale", "weights")]
        if any(a.shape != (len(data["features"]),) for a in arrays):
            raise ValueError("feature list and weights differ in length")
        return cls(tuple(data["features"]), *arrays, float(data["bias"]))


@dataclass(frozen=True)
class AnswerModel:
    """The ranker (a listwise linear model over a question's candidate sentences, its scores
    calibrated to each sentence's own probability of holding the answer) and the answerability
    model (logistic regression on the best candidate's features)."""

    ranker: Linear
    calibration: tuple[float, float]
    """The ranker's score s becomes the probability ``1 / (1 + exp(-(a * s + b)))`` (Platt scaling,
    fitted out of fold): each sentence's own chance, whatever its rivals."""
    answerability: Linear
    threshold: float
    """Below this probability the answer is "not found" (chosen by cross-validation: the highest
    that still answers 95% of each training set's answerable questions)."""
    neighbour_margin: float
    """A quote takes in the sentence beside it when that one's probability is within this margin of its own."""
    about: dict

    def rank(self, features: np.ndarray) -> np.ndarray:
        return calibrated(self.ranker, self.calibration, features)

    def answerable(self, features: np.ndarray) -> float:
        return float(sigmoid(self.answerability(features)))

    def to_json(self) -> dict:
        return {"format": MODEL_FORMAT, "ranker": self.ranker.to_json(), "calibration": list(self.calibration),
                "answerability": self.answerability.to_json(), "threshold": self.threshold,
                "neighbour_margin": self.neighbour_margin, "about": self.about}

    def save(self, path: str | os.PathLike) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def calibrated(ranker: Linear, calibration: tuple[float, float], features: np.ndarray) -> np.ndarray:
    """Each candidate's probability of holding the answer: the ranker's score, Platt-scaled."""
    a, b = calibration
    return sigmoid(a * ranker(features) + b)


class AnswerModelError(QAError):
    """The answer model's weights file is missing, damaged or for other features."""


def load_answer_model(path: str | Path = DEFAULT_MODEL_FILE) -> AnswerModel:
    """The model saved at ``path``; AnswerModelError unless it was fitted on today's features."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("format") != MODEL_FORMAT:
            raise ValueError(f"format {data.get('format')!r}, not {MODEL_FORMAT}")
        a, b = (float(x) for x in data["calibration"])
        model = AnswerModel(Linear.from_json(data["ranker"]), (a, b), Linear.from_json(data["answerability"]),
                            float(data["threshold"]), float(data["neighbour_margin"]), dict(data.get("about", {})))
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise AnswerModelError(f"The answer model {path} can't be read ({err}); refit it with `qa fit`.") from err
    if model.ranker.features != SENTENCE_FEATURES or model.answerability.features != ANSWER_FEATURES:
        raise AnswerModelError(f"The answer model {path} was fitted on other features; refit it with `qa fit`.")
    return model


@lru_cache(maxsize=1)
def shipped_model() -> AnswerModel:
    """The answer model that ships with qa (``answer_model.json`` beside this module)."""
    return load_answer_model()
