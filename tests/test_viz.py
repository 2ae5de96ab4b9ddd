"""bplearn.explain.viz: every plot is a titled, labelled Figure that shows what the trace says."""
import io

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from bplearn import nn
from bplearn.engine import Value
from bplearn.explain.trace import trace_network, trace_rnn, trace_value
from bplearn.explain.viz import (GraphView, MLPView, layered_layout, plot_decision_boundary, plot_feature_maps,
                         plot_grad_norms, plot_graph, plot_kernels, plot_layers, plot_loss_curve,
                         plot_network, plot_rnn)
from bplearn.explain.viz.style import StepRenderer


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def neuron_loss():
    w, x, b, t = Value(0.5, "w"), Value(2.0, "x"), Value(-0.2, "b"), Value(1.0, "t")
    loss = ((w * x + b).tanh() - t) ** 2
    loss.label = "L"
    return loss


def mlp_trace():
    model = nn.Sequential(nn.Linear(2, 4, rng=0), nn.Tanh(), nn.Linear(4, 3, rng=1), nn.ReLU(), nn.Linear(3, 2, rng=2))
    rng = np.random.default_rng(0)
    return model, trace_network(model, rng.standard_normal((5, 2)), rng.integers(0, 2, 5), nn.CrossEntropyLoss())


def cnn_trace():
    model = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1, rng=0), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(3 * 3 * 3, 2, rng=1))
    rng = np.random.default_rng(0)
    return trace_network(model, rng.standard_normal((4, 1, 6, 6)), rng.integers(0, 2, 4), nn.CrossEntropyLoss())


def assert_titled(fig):
    """A Figure with a title and at least one axes labelled on both axes."""
    assert isinstance(fig, Figure)
    assert any(ax.get_title() for ax in fig.axes) or fig._suptitle is not None
    assert any(ax.get_xlabel() and ax.get_ylabel() for ax in fig.axes)


# --- graph ------------------------------------------------------------------------------------
def test_layered_layout_puts_each_inner_node_at_its_longest_path_from_a_leaf():
    graph = trace_value(neuron_loss()).graph
    pos = layered_layout(graph)
    names = {n["id"]: n["name"] for n in graph["nodes"]}
    column = {names[i]: x for i, (x, _) in pos.items()}
    # w*x (1), +b (2), tanh (3), -t (4), **2 (5): the chain of inner nodes by hand
    inner = [column[names[i]] for i, n in enumerate(graph["nodes"]) if n["op"]]
    assert inner == [1, 2, 3, 4, 5]
    assert column["w"] == column["x"] == 0 and column["b"] == 1 and column["t"] == 3   # leaves next to their user
    assert all(pos[c][0] > pos[p][0] for p, c, _ in graph["edges"])                  # every edge points right
    xy = list(pos.values())
    assert len(set(xy)) == len(xy)                                                     # no two nodes overlap


def test_plot_graph_is_titled_and_shows_final_values_and_grads():
    loss = neuron_loss()
    fig = plot_graph(loss)
    assert_titled(fig)
    ax = fig.axes[0]
    assert "Computational graph" in ax.get_title() and ax.get_xlabel()
    texts = [t.get_text() for t in ax.texts]
    assert any(t.startswith("w\n") and "grad" in t and "?" not in t for t in texts)


def test_graph_view_hides_values_not_computed_yet_and_highlights_the_current_node():
    trace = trace_value(neuron_loss())
    view = GraphView(trace)
    view.update(0)
    unknown = [lab.get_text() for lab in view.labels.values() if "data ?" in lab.get_text()]
    assert len(unknown) == len(trace.graph["nodes"]) - 1
    step = trace.last_forward + 2                       # the first edge event after the seed
    view.update(step)
    node = trace[step].node
    assert view.boxes[node].get_facecolor()[:3] == pytest.approx(matplotlib.colors.to_rgb("#E69F00"))
    assert len(view.current_edge.get_xdata()) == 2


# --- MLP and CNN --------------------------------------------------------------------------------
def test_plot_network_colours_weight_lines_by_their_gradient():
    _, trace = mlp_trace()
    fig = plot_network(trace)
    assert_titled(fig)
    view = MLPView(trace)
    view.update(len(trace) - 1)
    grad = trace[-1].param_grads["0.weight"]              # (4, 2); lines are row-major like the weight
    expected = view.cmap_grad.to_rgba(grad.ravel())
    np.testing.assert_allclose(view.lines[0].get_colors(), expected)
    view.update(0)                                        # before backward: grey lines
    assert np.allclose(view.lines[0].get_colors()[:, :3], matplotlib.colors.to_rgb("#b0b0b0"))


def test_mlp_view_uses_diverging_colour_blind_safe_maps():
    _, trace = mlp_trace()
    view = MLPView(trace)
    assert view.cmap_grad.get_cmap().name == "RdBu" and view.cmap_act.get_cmap().name == "PuOr"


def test_mlp_view_refuses_a_cnn_trace_with_a_pointer_to_layer_view():
    with pytest.raises(ValueError, match="use LayerView"):
        MLPView(cnn_trace())


def test_plot_layers_shows_kernel_gradients_at_a_conv_backward_step():
    trace = cnn_trace()
    fig = plot_layers(trace)                              # last event: backward through the conv layer
    assert_titled(fig)
    panel_titles = [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.get_title().startswith("dL/dW")]
    assert panel_titles == ["dL/dW filter 0", "dL/dW filter 1", "dL/dW filter 2"]
    image = [ax for ax in fig.axes if ax.get_title() == "dL/dW filter 1"][0].images[0]
    np.testing.assert_array_equal(image.get_array(), trace[-1].param_grads["0.weight"][1, 0])


def test_plot_feature_maps_and_kernels_are_titled_and_reject_wrong_shapes():
    assert_titled(plot_feature_maps(np.random.default_rng(0).standard_normal((2, 3, 5, 5))))
    assert_titled(plot_kernels(np.ones((4, 2, 3, 3))))
    with pytest.raises(ValueError, match=r"expects \(C, H, W\) or \(N, C, H, W\) maps, got shape \(5,\)"):
        plot_feature_maps(np.zeros(5))
    with pytest.raises(ValueError, match=r"shape \(F, C, kh, kw\)"):
        plot_kernels(np.zeros((3, 3)))


# --- RNN ----------------------------------------------------------------------------------------
def test_plot_rnn_bar_heights_are_the_traced_gradient_norms():
    rnn = nn.RNN(2, 4, rng=0)
    trace = trace_rnn(rnn, np.random.default_rng(0).standard_normal((1, 6, 2)))
    fig = plot_rnn(trace)
    assert_titled(fig)
    bars = fig.axes[1].patches
    np.testing.assert_allclose([b.get_height() for b in bars], trace.info["grad_norms"])
    assert fig.axes[1].get_yscale() == "log"


# --- curves ---------------------------------------------------------------------------------------
def test_plot_loss_curve_draws_training_and_validation_losses():
    fig = plot_loss_curve({"loss": [1.0, 0.5, 0.25], "val_loss": [1.1, 0.7, 0.6]})
    ax = fig.axes[0]
    assert ax.get_title() and ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [1.0, 0.5, 0.25])
    assert len(ax.lines) == 2
    with pytest.raises(ValueError, match="history is empty"):
        plot_loss_curve([])


def test_plot_decision_boundary_colours_the_plane_by_predicted_class():
    model = nn.Sequential(nn.Linear(2, 2, rng=0))
    model.layers[0].weight.data[...] = [[1.0, 0.0], [-1.0, 0.0]]     # class 0 where x0 > 0, class 1 where x0 < 0
    model.layers[0].bias.data[...] = 0.0
    X = np.array([[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [1.0, -1.0]])
    fig = plot_decision_boundary(model, X, np.array([1, 0, 1, 0]))
    ax = fig.axes[0]
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    classes = ax.images[0].get_array()
    assert np.all(classes[:, :10] == 1) and np.all(classes[:, -10:] == 0)     # left half 1, right half 0


def test_plot_grad_norms_bars_equal_the_norm_of_each_parameter_gradient():
    model, trace = mlp_trace()
    fig = plot_grad_norms(trace)
    ax = fig.axes[0]
    assert ax.get_title() and ax.get_ylabel().startswith("||dL/dθ||")
    heights = [b.get_height() for b in ax.patches]
    expected = [np.linalg.norm(p.grad) for _, p in model.named_parameters()]     # the model after the pass
    np.testing.assert_allclose(heights, expected)


# --- fast redraw ----------------------------------------------------------------------------------
def test_step_renderer_png_equals_a_full_redraw():
    _, trace = mlp_trace()
    view = MLPView(trace)
    renderer = StepRenderer(view.figure, view.dynamic, dpi=60)
    renderer.render()                                     # builds the cached background
    view.update(len(trace) - 2)
    fast = np.asarray(Image.open(io.BytesIO(renderer.render())).convert("RGB"), dtype=int)
    full = np.asarray(Image.open(io.BytesIO(StepRenderer(view.figure, None, dpi=60).render())).convert("RGB"),
                      dtype=int)
    assert fast.shape == full.shape
    assert np.mean(np.abs(fast - full) > 8) < 0.002       # same picture (antialiasing aside)


# --- readable labels and marks in the pictures ----------------------------------------------------------
def test_graph_node_labels_are_large_enough_to_read():
    w, x, t = Value(0.5, "w"), Value(2.0, "x"), Value(1.0, "t")
    view = GraphView(trace_value((w * x - t) ** 2))
    view.update(0)
    assert min(label.get_fontsize() for label in view.labels.values()) >= 10
    columns = 1 + max(x for x, _ in view.pos.values())
    assert view.figure.get_size_inches()[0] / columns >= 1.8          # about two inches per column of boxes


def test_layer_view_frames_the_selected_kernel_entry_when_its_gradient_is_shown():
    from bplearn.explain.widgets import NetworkStepper

    cnn = nn.Sequential(nn.Conv2d(1, 3, 3, rng=0), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 2, rng=1))
    x = np.random.default_rng(0).standard_normal((2, 1, 6, 6))
    stepper = NetworkStepper(cnn, x, np.array([0, 1]), nn.CrossEntropyLoss(), weight=("0.weight", (1, 0, 2, 0)))
    conv_back = next(e.index for e in stepper.trace if e.phase == "backward" and "0.weight" in e.param_grads)
    stepper.goto(conv_back)
    frames = stepper.view.frames["selected"]
    assert [f.get_visible() for f in frames] == [k == 1 for k in range(len(frames))]
    assert frames[1].get_xy() == (-0.5, 1.5)                           # column 0, row 2 of filter 1
    assert stepper.view.mark_texts["selected"].get_text() == "selected: 0.weight[1, 0, 2, 0]"
    stepper.goto(conv_back - 1)                                        # the panels show something else
    assert not any(f.get_visible() for f in frames)


def test_rnn_view_title_states_truncation_and_clipping():
    from bplearn.explain.viz.rnn import RNNView

    rnn = nn.RNN(2, 3, rng=0)
    x = np.random.default_rng(0).standard_normal((1, 6, 2))
    title = RNNView(trace_rnn(rnn, x, bptt_steps=2, clip_norm=0.25)).figure.axes[0].get_title()
    assert title == "RNN unrolled in time (truncated BPTT, blocks of 2 steps; gradients clipped to norm 0.25)"
    title = RNNView(trace_rnn(rnn, x)).figure.axes[0].get_title()
    assert title == "RNN unrolled in time (full BPTT; no clipping)"
