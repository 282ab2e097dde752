"""What every notebook calls first: `PROFILE = start(PROFILE, SEED)`."""

from __future__ import annotations

import os

from utils.course import PROFILE_ENV, PROFILES


def resolve_profile(profile: str) -> str:
    """The profile to run: `$COURSE_PROFILE` if set, else `profile`; checked against PROFILES."""
    chosen = os.environ.get(PROFILE_ENV) or profile
    if chosen not in PROFILES:
        raise ValueError(
            f"Unknown PROFILE {chosen!r}: use one of {PROFILES} "
            f"(set it in the parameters cell, or unset ${PROFILE_ENV})."
        )
    return chosen


def start(profile: str, seed: int) -> str:
    """Resolve the profile, seed Python, NumPy and TensorFlow, and print one status line.

    In the `smoke` profile TensorFlow's ops are also made deterministic, so that a re-run
    gives the same numbers (the tests compare outputs). In `full` they are not: some GPU
    kernels have no deterministic version, and speed matters more there.

    Returns the profile to use (`"full"` or `"smoke"`).
    """
    profile = resolve_profile(profile)
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    if profile == "smoke":
        tf.config.experimental.enable_op_determinism()
    gpus = tf.config.list_physical_devices("GPU")
    device = f"{len(gpus)} GPU(s)" if gpus else "CPU only"
    print(f"Profile: {profile} | seed: {seed} | Keras {keras.__version__} | {device}")
    if profile == "full" and not gpus:
        print(
            "Note: the full profile is meant for a GPU (Colab: Runtime > Change runtime type).\n"
            "On a CPU it works but is slow; PROFILE = 'smoke' runs a small offline version."
        )
    return profile
