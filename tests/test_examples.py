"""Every script in examples/ runs (with small settings) and shows what it claims to show."""

from __future__ import annotations

import numpy as np
import pytest
from support import EXAMPLES, load_example, run_python


def test_every_example_has_main_and_a_script_guard():
    scripts = sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))
    assert len(scripts) >= 9
    for path in scripts:
        text = path.read_text(encoding="utf-8")
        assert "def main(" in text, path.name
        assert 'if __name__ == "__main__":' in text, path.name


def test_swimming_perceptron_goes_swimming(capsys):
    result = load_example("swimming_perceptron").main()
    assert result["z"] == 5.0
    assert result["y"] == 1.0
    # The decision agrees with w·x + b >= 0 for all eight situations.
    w = np.array([4.0, 2.0, 4.0])
    for bits, y in result["table"].items():
        assert y == float(w @ np.array(bits) - 3.0 >= 0)
    assert "go swimming" in capsys.readouterr().out


def test_swimming_perceptron_with_other_weights_stays_home():
    result = load_example("swimming_perceptron").main(w=(1.0, 1.0, 1.0), b=-3.0, verbose=False)
    assert result["z"] == -1.0
    assert result["y"] == 0.0


def test_two_layer_forward_vectorised_equals_per_example_loop():
    result = load_example("two_layer_forward").main(m=7, seed=3, verbose=False)
    assert result["vectorised"].shape == (7,)
    assert result["value_error"] < 1e-12
    assert result["grad_error"] < 1e-12
    # The outputs differ between examples (so the comparison is not trivial).
    assert np.ptp(result["looped"]) > 1e-3


def test_linear_layers_collapse_and_cannot_learn_xor():
    result = load_example("linear_collapse").main(depth=5, epochs=600, verbose=False)
    assert result["collapse_error"] < 1e-9
    assert result["linear_mse"] >= 0.25 - 1e-6  # no linear model beats predicting 0.5
    assert result["tanh_mse"] < 0.05


def test_delta_rule_matches_backward_and_learns():
    result = load_example("delta_rule").main(epochs=30, verbose=False)
    assert result["max_difference"] < 1e-12
    assert result["losses"][-1] < 0.5 * result["losses"][0]
    assert result["accuracy"] == 1.0


def test_xor_is_solved_by_two_layers():
    result = load_example("xor").main(epochs=500, verbose=False)
    assert result["solved"]
    assert result["losses"][-1] < 0.05 < result["losses"][0]


def test_telescope_reinforce_beats_random_policy():
    result = load_example("telescope_reinforce").main(episodes=300, verbose=False)
    assert result["learned_return"] > 1.5 * result["random_return"]
    assert result["learned_return"] <= result["optimal_return"] + 1e-9
    assert len(result["schedule"]) == 6


def test_light_curve_autoencoder_denoises(tmp_path):
    plot = tmp_path / "curves.png"
    result = load_example("light_curve_autoencoder").main(
        n_train=300, n_test=100, epochs=20, plot=plot, verbose=False
    )
    assert result["reconstruction_mse"] < 0.85 * result["noise_mse"]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_light_curves_contain_both_kinds():
    mod = load_example("light_curve_autoencoder")
    noisy, clean, kinds = mod.make_light_curves(10, length=32, noise=0.1, seed=0)
    assert noisy.shape == clean.shape == (10, 32)
    assert set(kinds) == {0, 1}
    # Transits are flat outside their dips: few distinct clean values.
    assert all(len(np.unique(clean[i])) <= 2 for i in np.flatnonzero(kinds == 1))


def test_activation_study_measures_each_claim(tmp_path):
    plot = tmp_path / "norms.png"
    result = load_example("activation_study").main(
        depth=6,
        dying_epochs=30,
        seeds=(0,),
        n_train=400,
        target=0.9,
        max_epochs=15,
        speed_activations=("relu", "tanh"),
        plot=plot,
        verbose=False,
    )
    norms = result["gradient_norms"]
    ratio = {act: v[0] / v[-1] for act, v in norms.items()}
    assert ratio["sigmoid"] < 1e-3  # the gradient vanishes on its way to the input
    assert ratio["sigmoid"] < ratio["tanh"] and ratio["sigmoid"] < ratio["relu"]
    assert plot.exists()
    dying = result["dying"]
    assert dying["relu"]["grad_to_dead"] == 0.0
    assert dying["relu"]["dead_after"] >= dying["relu"]["dead_before"] == 20
    assert dying["leaky_relu"]["grad_to_dead"] > 0.0
    speed = result["speed"]
    assert speed["epochs"]["relu"][0] is not None
    assert speed["ratios"]["tanh"] > 0


def test_activation_study_reports_unreached_targets_as_lower_bounds():
    study = load_example("activation_study")
    speed = study.convergence_ratio(
        seeds=(0,), activations=("relu", "sigmoid"), max_epochs=4, target=0.8
    )
    assert speed["epochs"]["sigmoid"] == [None]  # sigmoid is far slower with plain SGD
    assert speed["bounded"]["sigmoid"] is True
    relu_epochs = speed["epochs"]["relu"][0]
    assert speed["ratios"]["sigmoid"] == pytest.approx(4 / relu_epochs)


def test_examples_run_as_scripts(tmp_path):
    """One example end to end through the interpreter, as a student would run it."""
    proc = run_python(EXAMPLES / "swimming_perceptron.py", cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "y = step(z) = 1" in proc.stdout


@pytest.mark.parametrize("name", ["two_layer_forward", "delta_rule"])
def test_examples_print_their_story(name, capsys):
    load_example(name).main()
    out = capsys.readouterr().out
    assert "largest" in out


def test_digits_classifier_generalises(tmp_path):
    plot = tmp_path / "history.png"
    result = load_example("digits").main(
        epochs=4, n_train=600, plot=plot, progress=False, verbose=False
    )
    assert result["test_accuracy"] > 0.85  # chance is 0.1
    assert result["confusion"].sum() == 360
    assert np.trace(result["confusion"]) == round(result["test_accuracy"] * 360)
    assert len(result["history"]) == 4
    assert plot.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_digits_cnn_reaches_98_5_percent_on_held_out_digits(tmp_path):
    graph, maps = tmp_path / "cnn.dot", tmp_path / "maps.png"
    result = load_example("digits_cnn").main(graph=graph, feature_maps=maps, verbose=False)
    assert result["n_test"] == 360
    assert result["test_accuracy"] >= 0.985
    assert result["val_accuracy"] >= 0.95  # the split used for choosing settings
    dot = graph.read_text(encoding="utf-8")
    # one box per layer and the loss, named after its module; in eval mode dropout is
    # the identity and records no node, so it has no box
    assert dot.count("subgraph cluster_group") == 8
    for name in ("Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear", "loss"):
        assert name in dot
    assert "Dropout" not in dot
    assert maps.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_digits_cnn_shifts_keep_every_pixel_inside():
    mod = load_example("digits_cnn")
    X = np.random.default_rng(0).random((50, 1, 8, 8))
    shifted = mod.shift_images(X, np.random.default_rng(1))
    assert shifted.shape == X.shape
    # a shift by at most one pixel keeps the inner 6×6 block somewhere in the image
    moved = [
        any(
            np.array_equal(shifted[i, 0, 1 + dy : 7 + dy, 1 + dx : 7 + dx], X[i, 0, 1:7, 1:7])
            for dy in (-1, 0, 1)
            for dx in (-1, 0, 1)
        )
        for i in range(50)
    ]
    assert all(moved)


@pytest.mark.slow
def test_light_curve_lstm_beats_an_mlp_of_the_same_size(tmp_path):
    plot = tmp_path / "forecast.png"
    result = load_example("light_curve_rnn").main(plot=plot, verbose=False)
    assert (
        abs(result["lstm_parameters"] - result["mlp_parameters"]) <= 0.03 * result["mlp_parameters"]
    )
    assert result["lstm_mse"] < 0.9 * result["mlp_mse"]
    assert result["mlp_mse"] < result["noise_mse"]  # both really learned to forecast
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
