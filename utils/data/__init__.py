"""Data for the course: a registry of real data sets, checked downloads, offline stand-ins.

- `registry`  what each data set is: URL, sha256, size, licence
- `download`  `fetch(name)`: download once with a progress bar, verify, cache atomically
- `mnist`     `load_mnist(profile)`: Keras's MNIST (full) or 5,000 bundled real digits (smoke)
- `photos`    `load_photo(name)`: photos bundled with scikit-image (both profiles)
- `cifar10`   `load_cifar10(profile)`: CIFAR-10 (full) or generated shapes (smoke)
- `shapes`    `make_shapes(n)`: the generated 32x32 shapes, with masks
"""

from utils.data.cifar10 import load_cifar10
from utils.data.download import DataUnavailableError, fetch
from utils.data.mnist import load_mnist
from utils.data.photos import PHOTOS, load_photo

__all__ = [
    "DataUnavailableError",
    "PHOTOS",
    "fetch",
    "load_cifar10",
    "load_mnist",
    "load_photo",
]
