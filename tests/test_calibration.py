"""Temperature scaling, calibration error and reliability, and the card's calibration."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emorec.calibration import (
    apply_temperature,
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
    reliability,
)


def overconfident(n: int = 3000, right: float = 0.6, score: float = 0.95, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n)
    ok = rng.random(n) < right
    guess = np.where(ok, labels, (labels + 1 + rng.integers(0, 3, n)) % 4)
    probs = np.full((n, 4), (1 - score) / 3)
    probs[np.arange(n), guess] = score
    return probs, labels


@settings(max_examples=30, deadline=None)
@given(
    st.integers(2, 6).flatmap(
        lambda k: st.lists(
            st.lists(st.floats(0.01, 1.0), min_size=k, max_size=k), min_size=1, max_size=20
        )
    ),
    st.floats(0.1, 10.0),
)
def test_temperature_keeps_the_ranking_and_sums_to_one(rows, t):
    p = np.asarray(rows)
    p = p / p.sum(axis=1, keepdims=True)
    out = apply_temperature(p, t)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(
        np.argsort(-out, axis=1, kind="stable")[:, 0],
        np.argsort(-p.astype(np.float32), axis=1, kind="stable")[:, 0],
    )
    np.testing.assert_allclose(apply_temperature(p, 1.0), p, rtol=1e-5, atol=1e-7)


def test_fit_softens_an_overconfident_model_and_lowers_ece_and_nll():
    probs, labels = overconfident()
    t = fit_temperature(probs, labels)
    after = apply_temperature(probs, t)
    assert t > 1.5
    assert (
        expected_calibration_error(after, labels)
        < 0.02
        < 0.3
        < expected_calibration_error(probs, labels)
    )
    assert negative_log_likelihood(after, labels) < negative_log_likelihood(probs, labels)
    # the fitted T is the NLL minimum: either side is worse
    for other in (t * 0.8, t * 1.25):
        assert negative_log_likelihood(after, labels) <= negative_log_likelihood(
            apply_temperature(probs, other), labels
        )


def test_fit_sharpens_an_underconfident_model():
    probs, labels = overconfident(right=0.9, score=0.4)
    assert fit_temperature(probs, labels) < 1


def test_reliability_bins():
    probs = np.array([[0.95, 0.05], [0.9, 0.1], [0.45, 0.55], [0.3, 0.7]])
    r = reliability(probs, np.array([0, 1, 1, 1]), bins=10)
    assert r["count"].sum() == 4 and r["count"][9] == 1 and r["count"][8] == 1
    assert r["accuracy"][8] == 0.0 and r["accuracy"][9] == 1.0
    assert np.isnan(r["accuracy"][0])
    ece = expected_calibration_error(probs, np.array([0, 1, 1, 1]), bins=10)
    assert ece == pytest.approx((0.05 + 0.9 + 0.45 + 0.3) / 4)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="temperature=0"):
        apply_temperature(np.eye(2), 0)
    with pytest.raises(ValueError, match="expected 3 class indices"):
        fit_temperature(np.eye(3), [0, 1])
    with pytest.raises(ValueError, match="labels outside 0..1"):
        negative_log_likelihood(np.eye(2), [0, 2])
    with pytest.raises(ValueError, match="finite"):
        reliability(np.array([[np.nan, 1.0]]), [0])


def test_card_calibration_is_checked_and_applied(tmp_path):
    from emorec import EmotionClassifier, build_model
    from emorec.models import ModelCard

    model = build_model("seed_cnn", num_classes=3)
    path = tmp_path / "m.keras"
    model.save(path)
    ModelCard.from_model(model, ["a", "b", "c"], calibration={"temperature": 4.0}).write(path)
    assert ModelCard.read(path).temperature == 4.0
    crops = np.random.default_rng(0).integers(0, 255, (3, 48, 48), np.uint8)
    raw = EmotionClassifier.load(path, temperature=1.0).predict_proba(crops)
    calibrated = EmotionClassifier.load(path)
    assert calibrated.temperature == 4.0
    np.testing.assert_allclose(
        calibrated.predict_proba(crops), apply_temperature(raw, 4.0), rtol=1e-4, atol=1e-6
    )
    assert [r[0].label for r in calibrated.predict(list(crops))] == [
        "abc"[i] for i in raw.argmax(axis=1)
    ]
    with pytest.raises(ValueError, match="no positive temperature"):
        ModelCard(labels=("a", "b"), calibration={"temperature": -1})
    with pytest.raises(ValueError, match="no positive temperature"):
        ModelCard.from_dict({"labels": ["a", "b"], "calibration": {"split": "val"}})
    assert ModelCard(labels=("a", "b")).temperature == 1.0
