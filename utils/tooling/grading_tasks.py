"""Hidden tests of the exercises that train a network: the grader's data, the grader's clock.

The hidden tests of units 04, 05, 06 and 17 call these with the learner's functions (in the
grader, remote proxies of them; in the solution notebook, the solution's own functions). The
data, the training recipe and the baseline come from here, never from the notebook's
globals; every model is evaluated here, on test digits or images the training never used.
What the learner's kernel can still see: the offline MNIST and CIFAR-10 substitutes are in the
installed packages, so a `train` that ignores its arguments could load them itself; it would
still have to train a network that reaches the band.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from utils.checks.core import CheckFailed, call, passed


def _mnist_train_test(seed: int, n_train: int):
    """(x_train float32 (n, 28, 28, 1), y_train int64) drawn with `seed` from the 4,000 smoke
    training digits, and the 1,000 test digits the trained-model checks evaluate on."""
    from utils.data import load_mnist

    (x, y), test = load_mnist("smoke")
    order = np.random.default_rng(seed).permutation(len(x))[:n_train]
    x = (x[order].astype(np.float32) / 255.0)[..., None]
    return (x, y[order].astype(np.int64)), test


def check_shallow_cnn_training(
    loss_and_grads: Callable, seed: int, band: float = 0.90, audit_every: int = 20
) -> None:
    """Unit 04, exercise 5: the grader trains the shallow CNN with `shallow_cnn.minibatch_sgd`
    (3 epochs, batch 32, lr 0.2, decay 0.6) calling the learner's `loss_and_grads` on 3,600
    digits it draws; every `audit_every`-th call is compared with the autodiff gradients, so
    gradients that steer towards weights trained elsewhere fail. The trained parameters must
    reach `band` on the 1,000 test digits (`check_trained_network`)."""
    from utils.checks import backprop_from_scratch
    from utils.networks import shallow_cnn

    (x, y), _ = _mnist_train_test(seed, 3600)
    calls = {"n": 0}

    def audited(params, xb, yb):
        loss, grads = call(loss_and_grads, params, xb, yb, case=f"training step {calls['n']}")
        if calls["n"] % audit_every == 0:
            # the reference in the same float32 as the step, compared as one vector: ties in
            # max pooling (saturated pixels) may route a gradient to another, equally valid
            # element, so the audit asks for the same direction (cosine >= 0.95) and about the
            # same size (relative difference <= 0.25), not for equal elements
            want_loss, want = shallow_cnn.autodiff_loss_and_grads(params, xb, yb)
            if set(grads) != set(want):
                raise CheckFailed(f"`loss_and_grads` gave gradients for {sorted(grads)}")
            got_v = np.concatenate(
                [np.ravel(np.asarray(grads[k], np.float64)) for k in sorted(want)]
            )
            want_v = np.concatenate(
                [np.ravel(np.asarray(want[k], np.float64)) for k in sorted(want)]
            )
            cosine = float(
                got_v @ want_v / max(np.linalg.norm(got_v) * np.linalg.norm(want_v), 1e-30)
            )
            size = abs(np.linalg.norm(got_v) / max(np.linalg.norm(want_v), 1e-30) - 1)
            if (
                abs(float(loss) - want_loss) > 1e-3 * max(1.0, abs(want_loss))
                or cosine < 0.95
                or size > 0.25
            ):
                raise CheckFailed(
                    f"training step {calls['n']}: `loss_and_grads` does not give the loss and "
                    f"gradients of the network (loss {float(loss):.4f} vs {want_loss:.4f}, "
                    f"cosine with the true gradient {cosine:.3f})"
                )
        calls["n"] += 1
        return loss, grads

    params = shallow_cnn.init_params(seed % 2**16)
    history = shallow_cnn.minibatch_sgd(
        audited, params, x, y, epochs=3, batch_size=32, lr=0.2, lr_decay=0.6, seed=seed
    )
    if not history["loss"][-1] < history["loss"][0]:
        raise CheckFailed("the training loss did not fall")
    backprop_from_scratch.check_trained_network(params, band=band)


def check_lenet_training(
    build_lenet: Callable, train: Callable, seed: int, band=0.90, profile: str = "smoke"
) -> None:
    """Unit 05, exercise 3: a fresh model from the learner's `build_lenet()`, trained by the
    learner's `train(model, x, y, 4, 64)` on the 4,000 smoke training digits in an order drawn
    with `seed`; `train` must return a History with a validation split (`val_accuracy`), and
    the trained weights (sent back from the kernel) must reach `band` on the test digits of
    `profile` (`lenet.check_trained_lenet`): the 1,000 offline digits the training split
    leaves out in smoke (the grader's profile), MNIST's own test split in full."""
    import keras

    from utils.checks import lenet

    keras.utils.set_random_seed(seed % 2**31)
    model = call(build_lenet, case="no arguments")
    (x, y), _ = _mnist_train_test(seed, 4000)
    history = call(train, model, x, y, 4, 64, case="4 epochs, batch size 64")
    metrics = getattr(history, "history", None)
    if not isinstance(metrics, dict) or "val_accuracy" not in metrics:
        raise CheckFailed("train() must return the History of fit, with a validation split")
    lenet.check_trained_lenet(model, band=band, profile=profile)


#: Unit 06's smoke recipe (the notebook's SIZES["smoke"]): the baseline and the learner's
#: model are both trained with it, here.
UNIT06 = {"n_train": 400, "n_val": 400, "epochs": 16, "batch_size": 32, "width": 8, "dense": 64}
UNIT06_LR = 3e-3


def _unit06_baseline(input_shape):
    import keras

    L = keras.layers
    width, dense = UNIT06["width"], UNIT06["dense"]
    return keras.Sequential(
        [
            keras.Input(input_shape),
            L.Conv2D(width, 3, strides=2, padding="same", activation="relu"),
            L.MaxPooling2D(),
            L.Conv2D(2 * width, 3, padding="same", activation="relu"),
            L.MaxPooling2D(),
            L.Flatten(),
            L.Dense(dense, activation="relu"),
            L.Dense(10, activation="softmax"),
        ],
        name="baseline",
    )


def check_regularisation(build_regularised: Callable, seed: int):
    """Unit 06, exercise 5: the grader trains its own unregularised baseline on the smoke
    CIFAR-10 substitute, then `check_gap_closed` asks the learner's `build_regularised()` for
    the baseline's weight layers and trains it `GAP_REPEATS` times next to fresh copies of
    the baseline, with the same recipe: the mean gap must be `GAP_MIN_CLOSED` smaller, the
    mean validation accuracy no more than `GAP_MAX_VAL_DROP` lower (and well above chance).
    Returns the Run of the learner's model (mean accuracies)."""
    import keras

    from utils.checks import training_cnns_well
    from utils.data import load_cifar10
    from utils.training import fit_and_measure, standardise

    keras.utils.set_random_seed(seed % 2**31)
    n_train, n_val = UNIT06["n_train"], UNIT06["n_val"]
    (x_all, y_all), (x_test, y_test), _ = load_cifar10(
        "smoke", smoke_train=n_train, smoke_test=n_val
    )
    train = (standardise(x_all[:n_train]), y_all[:n_train].astype("int32"))
    val = (standardise(x_test[:n_val]), y_test[:n_val].astype("int32"))
    recipe = {"epochs": UNIT06["epochs"], "batch_size": UNIT06["batch_size"]}
    baseline = fit_and_measure(
        _unit06_baseline(train[0].shape[1:]),
        train,
        val,
        optimizer=keras.optimizers.Adam(UNIT06_LR),
        verbose=False,
        **recipe,
    )
    regularised = training_cnns_well.check_gap_closed(
        build_regularised, baseline, train, val, learning_rate=UNIT06_LR, **recipe
    )
    if not regularised.val_acc > 0.2:
        raise CheckFailed("validation accuracy should be well above chance (0.1)")
    passed("the regularised model closes the gap, trained and measured by the grader")
    return regularised


def _mapped(augment: Callable, element: tuple, repeat: int) -> list:
    """`augment` over `element` repeated inside tf.data: in the learner's kernel when it is a
    grader's proxy (`map_in_dataset`), here when it is a plain function (the solution)."""
    if hasattr(type(augment), "map_in_dataset"):
        return augment.map_in_dataset(element, repeat)
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensors(tuple(element)).repeat(repeat).map(augment)
    return [tuple(np.asarray(t) for t in out) for out in ds]


def check_augment_pair(augment_pair: Callable, seed: int, n: int = 60) -> None:
    """Unit 17, exercise 1, as `utils.checks.scaling_up.check_augment_pair` checks it, with
    the tf.data part run where the learner's function lives: one eager call, then `n` calls
    inside `Dataset.map`; every output must be a (maybe mirrored) (H - 8, W - 8) window of
    the image with its mask cropped and flipped alike (the mask is a function of the image's
    pixels), the mask's dtype and ids kept, with both flip states and >= 5 offsets."""
    import tensorflow as tf

    from utils.checks.core import fail
    from utils.checks.scaling_up import augment_case, check_variety, judge_pair

    image, mask, case = augment_case(seed)
    out = call(augment_pair, tf.constant(image), tf.constant(mask), case=case)
    judge_pair(None, out, image, mask, case)
    outputs = _mapped(augment_pair, (image, mask), n)
    if len(outputs) != n:
        raise fail("augment_pair", f"{n} calls inside Dataset.map", n, len(outputs))
    keys = [judge_pair(i, out, image, mask, case) for i, out in enumerate(outputs)]
    check_variety(keys, n)
    passed(f"augment_pair: image and mask cropped and mirrored alike, random in {n} calls")


def _pipeline_run(build: Callable, args: tuple, delay: float, epochs: int, keep: bool) -> dict:
    from utils.tooling import grading_harness

    if hasattr(type(build), "run_pipeline"):  # a grader's proxy: built in the learner's kernel
        return build.run_pipeline(args, delay, epochs, keep)
    return grading_harness.run_pipeline(build, args, delay, epochs, keep)


def _graph_ops(graph: np.ndarray) -> list[str]:
    """Dataset op names of a serialized dataset graph, parsed here (as utils.pipelines does)."""
    from tensorflow.core.framework import graph_pb2

    parsed = graph_pb2.GraphDef()
    parsed.ParseFromString(np.asarray(graph, dtype=np.uint8).tobytes())
    return [node.op for node in parsed.node if "Dataset" in node.op]


def check_pipeline(build_pipeline: Callable, seed: int, n: int = 70, batch_size: int = 8):
    """Unit 17, exercise 2, as `utils.checks.scaling_up.check_build_pipeline` checks it:
    the learner's pipeline of (image, mask) pairs is built and iterated in the kernel with
    counting functions (`grading_harness.run_pipeline`); its graph is parsed and every rule
    checked here, with the check's own judges; and it is timed by the grader's clock around
    that call, against a naive pipeline timed in the grader's own process (a preprocess of
    10 ms per image, 3 epochs of 60 pairs; the learner's must be at least 1.5x faster, the
    better of two attempts)."""
    import time

    from utils.checks.core import fail
    from utils.checks.scaling_up import (
        _Counter,
        _counting_preprocess,
        _naive,
        _seconds,
        judge_counts,
        judge_epochs,
        judge_ops,
        judge_orders,
        judge_spec,
        pipeline_case,
    )

    name = "build_pipeline"
    x, m = pipeline_case(seed, n)
    orders = {}
    for training in (True, False):
        case = f"x uint8 {x.shape}, m uint8 {m.shape}, batch_size={batch_size}, training={training}"
        run = _pipeline_run(build_pipeline, (x, m, batch_size, training), 0.0, 3, True)
        if run.get("type") != "Dataset":
            raise fail(name, case, "a tf.data.Dataset", run.get("type"))
        judge_spec(name, case, run["spec"] if run["is_tuple"] else ["not a pair"], x.shape[1])
        orders[training] = judge_epochs(name, case, run["epochs"], x, m, batch_size)
        judge_counts(name, case, run["pre"], run["aug"], n, training)
        judge_ops(name, case, _graph_ops(run["graph"]))
    judge_orders(name, orders, n)
    ratios = []
    for _attempt in range(2):
        naive = _seconds(
            _naive(x[:60], m[:60], batch_size, _counting_preprocess(_Counter(), 0.01)), 3
        )
        started = time.perf_counter()
        run = _pipeline_run(build_pipeline, (x[:60], m[:60], batch_size, True), 0.01, 3, False)
        fast = time.perf_counter() - started
        ratios.append(naive / max(fast, 1e-9))
        if ratios[-1] >= 1.5:
            break
    if max(ratios) < 1.5:
        raise fail(
            name,
            "3 epochs of 60 pairs, a preprocess of 10 ms each (timed by the grader)",
            "at least 1.5x faster than a sequential, uncached pipeline",
            f"{max(ratios):.2f}x (best of two attempts)",
        )
    passed(f"{name}: pairs aligned, shuffling, cache, parallel maps, prefetch; >= 1.5x faster")


#: Unit 14's smoke recipe (the notebook's SIZES["smoke"]): the grader runs the experiment of
#: exercise 4 with it, on a task it draws.
UNIT14 = {
    "per_class": 10,
    "pretrain_epochs": 3,
    "fe_epochs": 10,
    "ft_epochs": 5,
    "n_top": 3,
    "fe_lr": 1e-2,
    "ft_lr": 1e-3,
    "scratch_lr": 1e-2,
    "batch_size": 32,
    "min_gain": 0.15,
}
#: (The notebook's bar. Measured with the current lab on the tasks the grader draws,
#: GRADING_SEED 0-9: gains 0.299-0.416, mean 0.341, sd 0.040.)


def _compiled(model, learning_rate: float):
    import keras

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def check_transfer_gain(
    preprocess: Callable, build_transfer_model: Callable, prepare_fine_tuning: Callable, seed: int
) -> None:
    """Unit 14, exercise 4, run by the grader: on a smoke transfer task drawn with `seed` (10
    labelled images per class, the rest for testing), the learner's `preprocess` (compared
    with keras.applications' here), a backbone the grader pretrains on the source task, the
    learner's `build_transfer_model` (feature extraction, then `prepare_fine_tuning`), against
    the same architecture from scratch built by the learner's function on a fresh backbone,
    everything trainable, the same total epochs. Every fit and evaluation runs here; transfer
    must beat scratch by `UNIT14["min_gain"]`."""
    import keras

    from utils.checks.core import fail
    from utils.data.transfer_task import load_transfer_task
    from utils.networks import FAMILY, fresh_backbone, pretrained_backbone
    from utils.networks.backbones import preprocess_input

    r, family = UNIT14, FAMILY["smoke"]
    keras.utils.set_random_seed(seed % 2**31)
    task = load_transfer_task("smoke", per_class=r["per_class"], seed=seed % 2**31)
    n_classes = len(task.classes)
    data = {}
    for part in ("x_train", "x_test"):
        images = getattr(task, part)
        case = f"{part} uint8 {images.shape}, family={family!r}"
        got = np.asarray(call(preprocess, images, family, case=case))
        if got.shape != images.shape or not np.allclose(
            got, preprocess_input(images, family), atol=1e-3
        ):
            raise fail("preprocess", case, f"{family}'s preprocessing", "something else")
        data[part] = got.astype(np.float32)
    fit = {"batch_size": r["batch_size"], "verbose": 0}
    backbone, _ = pretrained_backbone("smoke", task, epochs=r["pretrain_epochs"], seed=seed)
    model = call(build_transfer_model, backbone, n_classes, case="the pretrained backbone")
    _compiled(model, r["fe_lr"]).fit(data["x_train"], task.y_train, epochs=r["fe_epochs"], **fit)
    result = call(prepare_fine_tuning, model, backbone, r["n_top"], r["ft_lr"], case="fine-tuning")
    model = result if isinstance(result, keras.Model) else model
    model.fit(data["x_train"], task.y_train, epochs=r["ft_epochs"], **fit)
    transfer = float(model.evaluate(data["x_test"], task.y_test, verbose=0)[1])
    scratch_backbone = fresh_backbone("smoke", data["x_train"].shape[1:])
    scratch = call(build_transfer_model, scratch_backbone, n_classes, case="a fresh backbone")
    scratch_backbone.trainable = True
    _compiled(scratch, r["scratch_lr"]).fit(
        data["x_train"], task.y_train, epochs=r["fe_epochs"] + r["ft_epochs"], **fit
    )
    from_scratch = float(scratch.evaluate(data["x_test"], task.y_test, verbose=0)[1])
    if not transfer > from_scratch + r["min_gain"]:
        raise CheckFailed(
            f"transfer ({transfer:.3f}) should beat scratch ({from_scratch:.3f}) by "
            f"{r['min_gain']} (trained and measured by the grader)"
        )
    passed(
        f"transfer beats scratch by at least {r['min_gain']}, trained and measured by the grader"
    )
