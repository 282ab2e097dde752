"""The shallow CNN of unit 04, written with NumPy: layers, parameters, a training loop.

The network (a batch of N digits, 28x28x1 -> 10 class scores each):

    conv KxK, F filters (K = 5, F = 8), stride 1, padding K // 2   (N, 28, 28, 1) -> (N, 28, 28, F)
    ReLU                                                           (N, 28, 28, F)
    max-pool 2x2, stride 2                                         (N, 14, 14, F)
    dense on the flattened maps                                    (N, 14*14*F)   -> (N, 10)
    softmax + cross-entropy loss                                   (N, 10), labels (N,) -> scalar

What is here (saved from unit 04's lecture, where each function is derived and tested):

- the forward passes `conv_forward`, `relu_forward`, `maxpool_forward`, `dense_forward`, and
  the two backward passes the lecture writes out, `relu_backward` and `dense_backward`.
  (The backward passes of convolution, max-pooling and softmax + cross-entropy, and the
  network's full backward pass, are the lab's exercises: they are not here.)
- `init_params`, `predict`, `accuracy`: the network's parameters and its class scores.
- `autodiff_loss_and_grads`: the same network in TensorFlow ops, differentiated by
  `tf.GradientTape`: the reference the lab's checks compare with, and the lecture's way of
  training before the lab writes the backward passes by hand.
- `minibatch_sgd`: mini-batch stochastic gradient descent for any
  `loss_and_grads(params, x, y) -> (loss, grads)`, returning a Keras-like history.

Shapes are channels last, CS231n style: x: (N, H, W, C); conv weights w: (KH, KW, C, F).
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable

import numpy as np

#: Max-pooling window and stride of the network.
POOL = 2


Params = dict[str, np.ndarray]


def conv_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, pad: int = 0) -> np.ndarray:
    """Convolution (cross-correlation), stride 1, `pad` rows/columns of zeros on each side.

    x: (N, H, W, C), w: (KH, KW, C, F), b: (F,)
    returns (N, OH, OW, F) with OH = H + 2*pad - KH + 1, OW = W + 2*pad - KW + 1.
    """
    xp = np.pad(x, [(0, 0)] + [(pad, pad)] * 2 + [(0, 0)])  # zeros around H and W only
    # every KH x KW window of the padded input, without copying: (N, OH, OW, C, KH, KW)
    windows = np.lib.stride_tricks.sliding_window_view(xp, w.shape[:2], axis=(1, 2))
    # multiply each window by each filter and sum over (C, KH, KW): one matrix product
    return np.tensordot(windows, w, axes=([3, 4, 5], [2, 0, 1])) + b


def relu_forward(x: np.ndarray) -> np.ndarray:
    """max(0, x), elementwise. x: any shape."""
    return np.maximum(x, 0)


def relu_backward(dout: np.ndarray, x: np.ndarray) -> np.ndarray:
    """dL/dx of ReLU: dout where x > 0, else 0. dout, x: the same shape; returns that shape."""
    return dout * (x > 0)


def maxpool_forward(x: np.ndarray, size: int = POOL) -> np.ndarray:
    """Max-pooling over non-overlapping size x size windows (stride = size).

    x: (N, H, W, C) with H and W multiples of `size` -> (N, H // size, W // size, C).
    """
    n, h, w, c = x.shape
    if h % size or w % size:
        raise ValueError(f"height and width {h, w} must be multiples of the pool size {size}")
    return x.reshape(n, h // size, size, w // size, size, c).max(axis=(2, 4))


def dense_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Fully connected layer on flattened inputs.

    x: (N, d_1, ..., d_k) flattened to (N, D), D = d_1 * ... * d_k; w: (D, M), b: (M,)
    returns (N, M).
    """
    return x.reshape(len(x), -1) @ w + b


def dense_backward(
    dout: np.ndarray, x: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the dense layer.

    dout: (N, M) = dL/d(output); x: (N, d_1, ..., d_k) the layer's input; w: (D, M).
    returns dx: x's shape, dw: (D, M), db: (M,).
    """
    x2 = x.reshape(len(x), -1)  # (N, D)
    dx = (dout @ w.T).reshape(x.shape)
    return dx, x2.T @ dout, dout.sum(axis=0)


def init_params(
    seed: int = 0,
    *,
    filters: int = 8,
    kernel: int = 5,
    image: int = 28,
    classes: int = 10,
    dtype=np.float32,
) -> Params:
    """Random starting parameters of the shallow CNN for (image, image, 1) inputs.

    Returns {"w1": (kernel, kernel, 1, filters), "b1": (filters,),
             "w2": ((image // 2)**2 * filters, classes), "b2": (classes,)}.
    He initialisation (std sqrt(2 / fan_in)) for the convolution, which a ReLU follows;
    std sqrt(1 / fan_in) for the dense layer; zero biases.
    """
    rng = np.random.default_rng(seed)
    d = (image // POOL) ** 2 * filters
    params = {
        "w1": rng.standard_normal((kernel, kernel, 1, filters)) * np.sqrt(2.0 / kernel**2),
        "b1": np.zeros(filters),
        "w2": rng.standard_normal((d, classes)) * np.sqrt(1.0 / d),
        "b2": np.zeros(classes),
    }
    return {k: v.astype(dtype) for k, v in params.items()}


def padding_of(params: Params) -> int:
    """The zero padding of the network's convolution: kernel size // 2 ("same" output size)."""
    return params["w1"].shape[0] // 2


def _blas_single_thread():
    """A context in which BLAS uses one thread. Small matrix products are faster that way,
    and much faster on a busy machine, where BLAS threads wait for each other."""
    controller = _threadpool_controller()
    if controller is None:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return controller.limit(limits=1, user_api="blas")


@functools.cache
def _threadpool_controller():
    """threadpoolctl's view of the loaded BLAS libraries (found once: that takes ms)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover
        return None
    return ThreadpoolController()


def predict(params: Params, x: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """Class scores (logits) of the shallow CNN. x: (N, H, W, 1) -> (N, classes)."""
    out = []
    with _blas_single_thread():
        for i in range(0, len(x), batch_size):
            a = conv_forward(x[i : i + batch_size], params["w1"], params["b1"], padding_of(params))
            pooled = maxpool_forward(relu_forward(a), POOL)
            out.append(dense_forward(pooled, params["w2"], params["b2"]))
    return np.concatenate(out)


def accuracy(params: Params, x: np.ndarray, y: np.ndarray) -> float:
    """Fraction of images whose highest score is the label. x: (N, H, W, 1), y: (N,) ints."""
    return float(np.mean(predict(params, x).argmax(axis=1) == y))


def tf_scores(params, x):
    """The same network in TensorFlow ops (differentiable by tf.GradientTape).

    params: dict of tensors or arrays as in `init_params`; x: (N, H, W, 1). Returns (N, classes).
    """
    import tensorflow as tf

    pad = tf.shape(params["w1"])[0] // 2
    xp = tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]])
    a = tf.nn.conv2d(xp, params["w1"], strides=1, padding="VALID") + params["b1"]
    pooled = tf.nn.max_pool2d(tf.nn.relu(a), POOL, POOL, "VALID")
    return tf.reshape(pooled, (tf.shape(pooled)[0], -1)) @ params["w2"] + params["b2"]


def autodiff_loss_and_grads(params: Params, x: np.ndarray, y: np.ndarray) -> tuple[float, Params]:
    """Mean softmax cross-entropy of the network and its gradients, by tf.GradientTape.

    params: as in `init_params` (computed in their dtype; use float64 for checking);
    x: (N, H, W, 1); y: (N,) integer labels. Returns (loss, {name: gradient shaped like the
    parameter, as NumPy}).
    """
    import tensorflow as tf

    dtype = np.dtype(params["w1"].dtype)
    tparams = {k: tf.constant(np.asarray(params[k], dtype=dtype)) for k in _PARAM_NAMES}
    x = tf.constant(np.asarray(x, dtype=dtype))
    loss, grads = _tape_step(dtype.name)(tparams, x, tf.constant(np.asarray(y, dtype=np.int64)))
    return float(loss.numpy()), {k: g.numpy() for k, g in grads.items()}


_PARAM_NAMES = ("w1", "b1", "w2", "b2")


@functools.cache
def _tape_step(dtype: str):
    """The loss and gradients of `tf_scores` + softmax cross-entropy as one tf.function for
    any shapes of one dtype (eager TensorFlow is slow for many small steps)."""
    import tensorflow as tf

    def spec(rank):
        return tf.TensorSpec([None] * rank, dtype)

    signature = [
        {"w1": spec(4), "b1": spec(1), "w2": spec(2), "b2": spec(1)},
        spec(4),
        tf.TensorSpec([None], tf.int64),
    ]

    def step(params, x, y):
        with tf.GradientTape() as tape:
            tape.watch(list(params.values()))
            losses = tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=y, logits=tf_scores(params, x)
            )
            loss = tf.reduce_mean(losses)
        return loss, tape.gradient(loss, params)

    return tf.function(step, input_signature=signature)


def minibatch_sgd(
    loss_and_grads: Callable[[Params, np.ndarray, np.ndarray], tuple[float, Params]],
    params: Params,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    lr_decay: float = 1.0,
    x_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    seed: int = 0,
    verbose: bool = True,
) -> dict[str, list[float]]:
    """Train `params` (updated in place) by mini-batch SGD: p <- p - lr * dL/dp.

    The learning rate is multiplied by `lr_decay` after every epoch (1.0: constant), so that
    late steps, smaller, settle instead of jumping around the minimum.

    loss_and_grads(params, xb, yb) -> (mean loss of the batch, {name: gradient}).
    x: (N, H, W, 1), y: (N,); each epoch visits the N images once in a new random order
    (from `seed`), in batches of `batch_size`.

    Returns a history like Keras's `History.history` (plots.plot_history draws it):
    "loss" (mean batch loss of the epoch), "accuracy" (on up to 1,000 training images after
    the epoch), "val_loss" and "val_accuracy" (on x_val, y_val, if given), and
    "batch_loss" (every batch's loss, for a curve per iteration). One line per epoch.
    """
    rng = np.random.default_rng(seed)
    keys = ("loss", "accuracy", "val_loss", "val_accuracy", "batch_loss")
    history: dict[str, list[float]] = {k: [] for k in keys}
    if x_val is None:
        del history["val_loss"], history["val_accuracy"]
    sample = rng.permutation(len(x))[:1000]
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        order = rng.permutation(len(x))
        losses = []
        with _blas_single_thread():
            for i in range(0, len(x), batch_size):
                batch = order[i : i + batch_size]
                loss, grads = loss_and_grads(params, x[batch], y[batch])
                if not np.isfinite(loss):
                    raise FloatingPointError(
                        f"the loss became {loss} in epoch {epoch}: check the loss function "
                        "(numerically stable softmax?) or lower the learning rate."
                    )
                step = lr * lr_decay ** (epoch - 1)
                for name in params:
                    params[name] -= step * grads[name].astype(params[name].dtype)
                losses.append(float(loss))
        history["batch_loss"] += losses
        history["loss"].append(float(np.mean(losses)))
        history["accuracy"].append(accuracy(params, x[sample], y[sample]))
        line = f"loss {history['loss'][-1]:.4f} - accuracy {history['accuracy'][-1]:.4f}"
        if x_val is not None:
            val_loss = _mean_loss(loss_and_grads, params, x_val, y_val)
            history["val_loss"].append(val_loss)
            history["val_accuracy"].append(accuracy(params, x_val, y_val))
            line += f" - val_loss {val_loss:.4f} - val_accuracy {history['val_accuracy'][-1]:.4f}"
        if verbose:
            seconds = time.perf_counter() - started
            print(f"epoch {epoch}/{epochs} - {seconds:.1f}s - {line}", flush=True)
    return history


def _mean_loss(loss_and_grads, params: Params, x: np.ndarray, y: np.ndarray, chunk: int = 500):
    """Mean loss over (x, y), computed `chunk` images at a time (to bound the memory)."""
    total = 0.0
    with _blas_single_thread():
        for i in range(0, len(x), chunk):
            xb, yb = x[i : i + chunk], y[i : i + chunk]
            total += float(loss_and_grads(params, xb, yb)[0]) * len(xb)
    return total / len(x)
