"""Data for the course: a registry of real data sets, checked downloads, offline stand-ins.

- `registry`  what each data set is: URL, sha256, size, licence
- `download`  `fetch(name)`: download once with a progress bar, verify, cache atomically
- `mnist`     `load_mnist(profile)`: Keras's MNIST (full) or 5,000 bundled real digits (smoke)
- `photos`    `load_photo(name)`: photos bundled with scikit-image (both profiles)
- `cifar10`   `load_cifar10(profile)`: CIFAR-10 (full) or generated shapes (smoke)
- `shapes`    `make_shapes(n)`: the generated 32x32 shapes, with masks
- `pets`, `pet_breeds`  Oxford-IIIT Pets: trimaps (unit 13) and breeds (unit 14)
- `segmentation`  `load_segmentation(profile)`: unit 13's image-mask pairs of either profile
- `transfer_task`  `load_transfer_task(profile)`: the task unit 14 transfers a backbone to
- `image_folders`  unit 15's folders of images: a demo folder, and an inspector for yours
- `pipelines`  unit 17's stored PNGs and the naive Python-generator pipeline
- `application_demos`  unit 17's tour of applications: small classical demos on photos
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
