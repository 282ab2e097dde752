"""The real data sets the `full` profile downloads: where from, what they must hash to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dataset:
    """One downloadable file.

    name:     key used by `fetch(name)`
    url:      where it is downloaded from
    filename: name of the cached file
    sha256:   hex digest the file must have
    size:     bytes (for the progress bar and the disk-space message)
    license:  the data set's licence, as its publisher states it
    homepage: where a learner can read about it
    """

    name: str
    url: str
    filename: str
    sha256: str
    size: int
    license: str
    homepage: str


REGISTRY: dict[str, Dataset] = {
    d.name: d
    for d in [
        Dataset(
            name="mnist",
            url="https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
            filename="mnist.npz",
            sha256="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
            size=11_490_434,
            license="CC BY-SA 3.0 (Yann LeCun and Corinna Cortes)",
            homepage="http://yann.lecun.com/exdb/mnist/",
        ),
        Dataset(
            name="cifar10",
            url="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
            filename="cifar-10-python.tar.gz",
            sha256="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
            size=170_498_071,
            license="free for research and teaching, cite Krizhevsky 2009",
            homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
        ),
        Dataset(
            name="pets-images",
            url="https://thor.robots.ox.ac.uk/~vgg/data/pets/images.tar.gz",
            filename="oxford-iiit-pet-images.tar.gz",
            sha256="67195c5e1c01f1ab5f9b6a5d22b8c27a580d896ece458917e61d459337fa318d",
            size=791_918_971,
            license="CC BY-SA 4.0 (Parkhi, Vedaldi, Zisserman, Jawahar 2012)",
            homepage="https://www.robots.ox.ac.uk/~vgg/data/pets/",
        ),
        Dataset(
            name="pets-annotations",
            url="https://thor.robots.ox.ac.uk/~vgg/data/pets/annotations.tar.gz",
            filename="oxford-iiit-pet-annotations.tar.gz",
            sha256="52425fb6de5c424942b7626b428656fcbd798db970a937df61750c0f1d358e91",
            size=19_173_078,
            license="CC BY-SA 4.0 (Parkhi, Vedaldi, Zisserman, Jawahar 2012)",
            homepage="https://www.robots.ox.ac.uk/~vgg/data/pets/",
        ),
    ]
}


def get(name: str) -> Dataset:
    """The registry entry `name`, or a KeyError that lists the known names."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"No data set {name!r}; known: {sorted(REGISTRY)}") from None
