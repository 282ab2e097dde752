"""Stand-ins for the full data sets, for rehearsing the `full` profile offline.

Each writer produces a file in the on-disk format the course's real reader parses, with the
real set's shapes, dtypes, sizes and class counts, so that `utils.data`'s loaders run on it
unchanged. The pixels are synthetic (class-dependent colour and stripes plus noise): only the
format and the sizes are the real set's, never its content.

- `write_mnist(dir)`      Keras's `mnist.npz`: x_train (60000, 28, 28) uint8, y_train (60000,)
                          uint8, x_test (10000, 28, 28), y_test (10000,), 10 classes.
- `write_cifar10(dir)`    Toronto's `cifar-10-python.tar.gz`: `cifar-10-batches-py/` with
                          data_batch_1..5 and test_batch (pickled dicts, b"data" (10000, 3072)
                          uint8 channel-first rows, b"labels" list of int) and batches.meta.
- `write_pets(dir)`       Oxford-IIIT Pets `images.tar.gz` (7,390 JPEGs `images/<Breed>_<n>.jpg`,
                          37 breeds, 12 cats capitalised, 25 dogs lower case, sizes ~500x375)
                          and `annotations.tar.gz` (`annotations/trimaps/<name>.png`, values
                          1, 2, 3, plus list.txt, trainval.txt, test.txt).
- `synthesise(dir)`       all of the above, returning {registry name: (path, sha256, size)}.
"""

from __future__ import annotations

import io
import pickle
import tarfile
import time
from pathlib import Path

import numpy as np

MNIST_SPLITS = {"train": 60_000, "test": 10_000}
CIFAR_BATCH = 10_000
CIFAR_TRAIN_BATCHES = 5
CIFAR_CLASSES = 10

#: The 37 breeds of Oxford-IIIT Pets, as its file names spell them (cats capitalised).
PET_CATS = (
    "Abyssinian",
    "Bengal",
    "Birman",
    "Bombay",
    "British_Shorthair",
    "Egyptian_Mau",
    "Maine_Coon",
    "Persian",
    "Ragdoll",
    "Russian_Blue",
    "Siamese",
    "Sphynx",
)
PET_DOGS = (
    "american_bulldog",
    "american_pit_bull_terrier",
    "basset_hound",
    "beagle",
    "boxer",
    "chihuahua",
    "english_cocker_spaniel",
    "english_setter",
    "german_shorthaired",
    "great_pyrenees",
    "havanese",
    "japanese_chin",
    "keeshond",
    "leonberger",
    "miniature_pinscher",
    "newfoundland",
    "pomeranian",
    "pug",
    "saint_bernard",
    "samoyed",
    "scottish_terrier",
    "shiba_inu",
    "staffordshire_bull_terrier",
    "wheaten_terrier",
    "yorkshire_terrier",
)
PET_BREEDS = PET_CATS + PET_DOGS
PETS_IMAGES = 7_390


def _pattern_images(y: np.ndarray, shape: tuple[int, ...], rng) -> np.ndarray:
    """uint8 images (N, *shape): a class-dependent level and stripe frequency plus noise.

    y: (N,) class ids. Cheap to draw (vectorised), and a classifier can tell the classes apart.
    """
    h, w = shape[0], shape[1]
    rows = np.arange(h, dtype=np.float32)[None, :, None]
    freq = (1 + y.astype(np.float32) % 7)[:, None, None] * (np.pi / h)
    stripes = np.sin(rows * freq) * 60.0  # (N, h, 1)
    base = 60.0 + 15.0 * y.astype(np.float32)[:, None, None]
    out = np.empty((len(y), *shape), dtype=np.uint8)
    for start in range(0, len(y), 5000):  # in chunks: float32 of 50,000 images is 600 MB
        s = slice(start, start + 5000)
        img = base[s] + stripes[s] + rng.normal(0, 25, size=(len(y[s]), h, w)).astype(np.float32)
        img = np.clip(img, 0, 255).astype(np.uint8)
        out[s] = img[..., None] if len(shape) == 3 else img
    return out


def write_mnist(directory: Path, *, seed: int = 0) -> Path:
    """Write `mnist.npz` in Keras's layout (see the module docstring); return its path."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in MNIST_SPLITS.items():
        y = np.resize(np.arange(10, dtype=np.uint8), n)
        rng.shuffle(y)
        x = _pattern_images(y, (28, 28), rng)
        # MNIST's digits are ink on a black background (about 80% of pixels are 0): keep the
        # bright part of the pattern inside the central 20x20 box, zero the rest
        x[x < 150] = 0
        x[:, :4], x[:, -4:], x[:, :, :4], x[:, :, -4:] = 0, 0, 0, 0
        arrays[f"x_{split}"] = x
        arrays[f"y_{split}"] = y
    path = Path(directory) / "mnist.npz"
    np.savez_compressed(path, **arrays)
    return path


def _cifar_batch(label: str, n: int, rng) -> dict:
    y = np.resize(np.arange(CIFAR_CLASSES, dtype=np.uint8), n)
    rng.shuffle(y)
    x = _pattern_images(y, (32, 32, 3), rng)  # (n, 32, 32, 3)
    x[..., 1] = 255 - x[..., 1]  # channels differ, as in photos
    data = x.transpose(0, 3, 1, 2).reshape(n, 3072)  # the official row layout: R, G, B planes
    return {
        b"batch_label": label.encode(),
        b"labels": [int(v) for v in y],
        b"data": np.ascontiguousarray(data),
        b"filenames": [f"synthetic_{label.replace(' ', '_')}_{i}.png".encode() for i in range(n)],
    }


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 0
    tar.addfile(info, io.BytesIO(data))


def write_cifar10(directory: Path, *, seed: int = 0) -> Path:
    """Write `cifar-10-python.tar.gz` in Toronto's layout; return its path."""
    rng = np.random.default_rng(seed)
    path = Path(directory) / "cifar-10-python.tar.gz"
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        names = [f"data_batch_{i}" for i in range(1, CIFAR_TRAIN_BATCHES + 1)] + ["test_batch"]
        for name in names:
            label = (
                "testing batch 1 of 1"
                if name == "test_batch"
                else f"training batch {name[-1]} of 5"
            )
            batch = _cifar_batch(label, CIFAR_BATCH, rng)
            _add_bytes(tar, f"cifar-10-batches-py/{name}", pickle.dumps(batch, protocol=2))
        meta = {
            b"label_names": [f"class_{i}".encode() for i in range(CIFAR_CLASSES)],
            b"num_cases_per_batch": CIFAR_BATCH,
            b"num_vis": 3072,
        }
        _add_bytes(tar, "cifar-10-batches-py/batches.meta", pickle.dumps(meta, protocol=2))
    return path


def pet_names(n: int = PETS_IMAGES) -> list[str]:
    """The `n` photo stems, `<Breed>_<k>`, spread evenly over the 37 breeds (k from 1)."""
    per_breed = np.full(len(PET_BREEDS), n // len(PET_BREEDS))
    per_breed[: n % len(PET_BREEDS)] += 1
    return [
        f"{b}_{k}"
        for b, count in zip(PET_BREEDS, per_breed, strict=True)
        for k in range(1, count + 1)
    ]


def _pet_photo(i: int, breed_id: int, rng, noise: np.ndarray) -> tuple[bytes, bytes]:
    """(JPEG bytes of an RGB photo about 500x375, PNG bytes of its trimap, values 1..3).

    noise: int16 (H, W) with H, W >= 540, a bank that each photo crops at a random offset.
    """
    from PIL import Image

    w, h = (500, 375) if i % 3 else (375, 500)  # landscape and portrait, as in the real set
    w, h = w + int(rng.integers(-40, 40)), h + int(rng.integers(-40, 40))
    cy, cx = h / 2 + rng.normal(0, h / 10), w / 2 + rng.normal(0, w / 10)
    r = min(h, w) * rng.uniform(0.25, 0.4)
    d2 = (np.arange(h, dtype=np.float32)[:, None] - cy) ** 2 + (
        np.arange(w, dtype=np.float32)[None, :] - cx
    ) ** 2
    trimap = np.full((h, w), 3, dtype=np.uint8)
    trimap[d2 < (r - 3) ** 2] = 1
    trimap[d2 > (r + 3) ** 2] = 2
    colour = np.array([40 + 5 * breed_id, 200 - 4 * breed_id, 90 + (breed_id % 5) * 30], np.int16)
    background = rng.integers(0, 256, size=3).astype(np.int16)
    oy, ox = rng.integers(0, noise.shape[0] - h), rng.integers(0, noise.shape[1] - w)
    img = (
        np.where((trimap == 1)[..., None], colour, background)
        + noise[oy : oy + h, ox : ox + w, None]
    )
    jpeg, png = io.BytesIO(), io.BytesIO()
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(jpeg, format="JPEG", quality=85)
    Image.fromarray(trimap).save(png, format="PNG", compress_level=1)
    return jpeg.getvalue(), png.getvalue()


def _pet_chunk(args: tuple[int, list[str], int]) -> list[tuple[str, bytes, bytes]]:
    """Draw one chunk of photos: (stem, JPEG bytes, PNG bytes) each; seeded by (seed, start)."""
    start, stems, seed = args
    rng = np.random.default_rng([seed, start])
    noise = rng.normal(0, 12, size=(600, 600)).astype(np.int16)
    index = {b: i for i, b in enumerate(PET_BREEDS)}
    return [
        (stem, *_pet_photo(start + k, index[stem.rsplit("_", 1)[0]], rng, noise))
        for k, stem in enumerate(stems)
    ]


def write_pets(
    directory: Path, *, n: int = PETS_IMAGES, seed: int = 0, workers: int = 2, progress: bool = True
):
    """Write the Pets `images.tar.gz` and `annotations.tar.gz` under the registry's file names.

    Photos are drawn by `workers` processes in chunks of 250. Returns (images, annotations) paths.
    """
    from concurrent.futures import ProcessPoolExecutor

    from tqdm.auto import tqdm

    from utils.data.registry import get

    directory = Path(directory)
    images_path = directory / get("pets-images").filename
    annotations_path = directory / get("pets-annotations").filename
    names = pet_names(n)
    index = {b: i for i, b in enumerate(PET_BREEDS)}
    chunks = [(s, names[s : s + 250], seed) for s in range(0, len(names), 250)]
    lines = []
    with (
        tarfile.open(images_path, "w:gz", compresslevel=1) as images,
        tarfile.open(annotations_path, "w:gz", compresslevel=1) as annotations,
        ProcessPoolExecutor(max_workers=workers) as pool,
        tqdm(total=len(names), desc="Synthesising Pets", disable=not progress) as bar,
    ):
        for chunk in pool.map(_pet_chunk, chunks):
            for stem, jpeg, png in chunk:
                breed = stem.rsplit("_", 1)[0]
                _add_bytes(images, f"images/{stem}.jpg", jpeg)
                _add_bytes(annotations, f"annotations/trimaps/{stem}.png", png)
                species = 1 if breed in PET_CATS else 2
                lines.append(f"{stem} {index[breed] + 1} {species} 1")
            bar.update(len(chunk))
        _add_bytes(annotations, "annotations/list.txt", ("\n".join(lines) + "\n").encode())
        _add_bytes(annotations, "annotations/trainval.txt", "\n".join(lines[0::2]).encode())
        _add_bytes(annotations, "annotations/test.txt", "\n".join(lines[1::2]).encode())
    return images_path, annotations_path


def synthesise(directory: Path, *, progress: bool = True) -> dict[str, tuple[Path, str, int]]:
    """Write every full data set's stand-in into `directory`.

    Returns {registry name: (path, sha256, size in bytes)} and prints the seconds each took.
    """
    from utils.data.download import sha256_of

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, writer in (("mnist", write_mnist), ("cifar10", write_cifar10)):
        t0 = time.perf_counter()
        paths[name] = writer(directory)
        print(f"synthesised {paths[name].name} in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    paths["pets-images"], paths["pets-annotations"] = write_pets(directory, progress=progress)
    print(f"synthesised the two Pets archives in {time.perf_counter() - t0:.1f} s")
    return {name: (p, sha256_of(p), p.stat().st_size) for name, p in paths.items()}
