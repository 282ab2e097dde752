"""Folders of photos, one sub-folder per class: an offline demo folder and a folder inspector.

`build_demo_folder` writes JPEG/PNG crops, flips and colour jitter of a few distinct photos
bundled with scikit-image and scikit-learn into `<root>/photos/<class>/` (the layout
`keras.utils.image_dataset_from_directory` reads) and a few unseen photos into
`<root>/new_photos/`. It only ever writes into a folder it created itself (marked by a file),
so it never overwrites a learner's photos, and reuses a complete folder made with the same
arguments.

`inspect_image_folder` says what is wrong with a folder, and what to do, before Keras does:
a missing or empty folder, a single class, unreadable files; it reports per-class counts and
whether the photos have mixed sizes (they are resized on loading).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: File endings `keras.utils.image_dataset_from_directory` reads (it skips everything else).
IMAGE_EXTENSIONS = (".jpeg", ".jpg", ".png", ".bmp", ".gif")


#: class name -> where its photo comes from: (library, name).
DEMO_CLASSES = {
    "cat": ("skimage", "chelsea"),
    "coffee": ("skimage", "coffee"),
    "flower": ("sklearn", "flower.jpg"),
    "rocket": ("skimage", "rocket"),
}


_MARKER = ".course_demo_folder"


_DEMO_VERSION = 1  # raise it when the photos written change, so that cached folders are rebuilt


class FolderProblem(ValueError):
    """A folder of photos cannot be used as it is; the message says why and what to do."""


@dataclass
class DemoFolder:
    """Where `build_demo_folder` wrote: `images` (class sub-folders) and `new_photos` (files)."""

    root: Path
    images: Path
    new_photos: list[Path] = field(default_factory=list)


@dataclass
class FolderReport:
    """What `inspect_image_folder` found. counts: class -> number of image files;
    sizes: the distinct (width, height) of the photos; ignored: non-image files Keras skips."""

    path: Path
    class_names: list[str]
    counts: dict[str, int]
    sizes: set[tuple[int, int]]
    ignored: list[Path]

    @property
    def mixed_sizes(self) -> bool:
        return len(self.sizes) > 1


def _source_photo(library: str, name: str) -> np.ndarray:
    """A bundled RGB photo, uint8 (H, W, 3)."""
    if library == "sklearn":
        from sklearn.datasets import load_sample_image

        return load_sample_image(name)
    from utils.data import load_photo

    return load_photo(name)


def _variant(photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random crop (50-90% of the short side), maybe mirrored, colour-jittered and resized to
    a random size of 72-140 pixels a side: uint8 (h, w, 3)."""
    from PIL import Image

    h, w = photo.shape[:2]
    side = int(min(h, w) * rng.uniform(0.5, 0.9))
    aspect = rng.uniform(0.8, 1.25)
    ch, cw = min(h, int(side * aspect)), min(w, int(side / aspect))
    top, left = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
    crop = photo[top : top + ch, left : left + cw].astype(np.float32)
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    crop = crop * rng.uniform(0.75, 1.25) * rng.uniform(0.9, 1.1, size=3) + rng.uniform(-20, 20)
    out_w, out_h = (int(v) for v in rng.integers(72, 141, size=2))
    image = Image.fromarray(np.clip(crop, 0, 255).astype(np.uint8))
    return np.asarray(image.resize((out_w, out_h), Image.BILINEAR))


def default_demo_root() -> Path:
    """The cache folder the demo photos go to: `$COURSE_DEMO_PHOTOS` or a temporary folder."""
    return Path(
        os.environ.get("COURSE_DEMO_PHOTOS") or Path(tempfile.gettempdir()) / "course_demo_photos"
    )


def build_demo_folder(
    root: str | Path | None = None, per_class: int = 40, seed: int = 0
) -> DemoFolder:
    """Write `per_class` photos for each of DEMO_CLASSES into `<root>/photos/<class>/` (JPEG and
    PNG, mixed sizes) and one unseen photo per class into `<root>/new_photos/`.

    root: a folder that does not exist, is empty, or was made by this function (it is reused
    as it is when it was made with the same per_class and seed and is complete, else rebuilt);
    anything else raises FolderProblem, so a learner's photos are never overwritten. Reusing
    also lets a lecture and a lab, running at the same time, share the folder safely.
    """
    from PIL import Image

    root = Path(root) if root is not None else default_demo_root()
    stamp = (
        f"written by utils.data.image_folders.build_demo_folder\n"
        f"version={_DEMO_VERSION} per_class={per_class} seed={seed}\n"
    )
    names = list(DEMO_CLASSES)
    new_photos = [root / "new_photos" / f"new_{name}.jpg" for name in names]
    if (
        (root / _MARKER).is_file()
        and (root / _MARKER).read_text() == stamp
        and all(p.is_file() for p in new_photos)
        and all(len(list((root / "photos" / name).glob("*.*"))) == per_class for name in names)
    ):
        return DemoFolder(root=root, images=root / "photos", new_photos=new_photos)
    if root.exists() and any(root.iterdir()) and not (root / _MARKER).exists():
        raise FolderProblem(
            f"{root} already holds files that this course did not write; the demo folder is "
            f"only built in an empty or new folder. Pass another `root`."
        )
    import shutil

    for sub in ("photos", "new_photos"):
        shutil.rmtree(root / sub, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    (root / _MARKER).write_text("being written\n")
    rng = np.random.default_rng(seed)
    for name, (library, source) in DEMO_CLASSES.items():
        photo = _source_photo(library, source)
        folder = root / "photos" / name
        folder.mkdir(parents=True)
        for i in range(per_class):
            ext = ".jpg" if i % 2 == 0 else ".png"
            Image.fromarray(_variant(photo, rng)).save(folder / f"{name}_{i:03d}{ext}")
        (root / "new_photos").mkdir(exist_ok=True)
        Image.fromarray(_variant(photo, rng)).save(root / "new_photos" / f"new_{name}.jpg")
    (root / _MARKER).write_text(stamp)  # complete: later calls with these arguments reuse it
    return DemoFolder(root=root, images=root / "photos", new_photos=new_photos)


def _readable_size(path: Path) -> tuple[int, int] | None:
    """(width, height) of an image file, or None when it cannot be decoded. JPEGs are decoded at
    1/8 scale (PIL's draft mode): enough to find a damaged file, quick for phone photos."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            size = image.size
            image.draft("RGB", (max(1, size[0] // 8), max(1, size[1] // 8)))
            image.load()
            return size
    except Exception:
        return None


def inspect_image_folder(path: str | Path, *, verbose: bool = True) -> FolderReport:
    """Check a folder laid out as `path/<class>/<image files>` and report what it holds.

    Raises FolderProblem (a ValueError) with what is wrong and what to do, for: a missing path,
    a file instead of a folder, no class sub-folders, a class with no images, a single class,
    image files that cannot be decoded (all listed). Mixed sizes are allowed (Keras resizes
    every photo on loading) and reported. Prints a summary when `verbose`.
    """
    path = Path(path).expanduser()
    layout = "one sub-folder per class, e.g. photos/cats/1.jpg, photos/dogs/7.jpg"
    if not path.exists():
        raise FolderProblem(f"{path} does not exist. Check the path (expected {layout}).")
    if not path.is_dir():
        raise FolderProblem(
            f"{path} is a file, not a folder. Point at the folder that holds {layout}."
        )
    classes = sorted(p.name for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise FolderProblem(
            f"{path} has no sub-folders, so there are no classes. Put the photos of each class "
            f"in its own sub-folder ({layout})."
        )
    counts, sizes, ignored, unreadable = {}, set(), [], []
    for name in classes:
        # Keras reads every file with an image ending, hidden ones (macOS's `._x.jpg`) too
        files = sorted(p for p in (path / name).rglob("*") if p.is_file())
        images = [p for p in files if p.suffix.lower() in IMAGE_EXTENSIONS]
        hidden = [p for p in files if p.name.startswith(".")]
        ignored += [
            p for p in files if p.suffix.lower() not in IMAGE_EXTENSIONS and p not in hidden
        ]
        counts[name] = len(images)
        for image in images:
            size = _readable_size(image)
            if size is None:
                unreadable.append(image)
            else:
                sizes.add(size)
    empty = [name for name, n in counts.items() if n == 0]
    if empty:
        raise FolderProblem(
            f"these class folders hold no images ({', '.join(IMAGE_EXTENSIONS)}): {empty}. "
            f"Add photos to them or delete them (phone photos in HEIC: convert them to JPEG)."
        )
    if len(classes) == 1:
        raise FolderProblem(
            f"{path} has a single class ({classes[0]!r}): a classifier needs at least two. "
            f"Add a second sub-folder of photos ({layout})."
        )
    if unreadable:
        listed = "\n  ".join(str(p) for p in unreadable)
        raise FolderProblem(
            f"{len(unreadable)} file(s) have an image ending but cannot be decoded "
            f"(damaged, or another format renamed). Delete or re-save them:\n  {listed}"
        )
    report = FolderReport(path, classes, counts, sizes, ignored)
    if verbose:
        print(f"{path}: {len(classes)} classes, {sum(counts.values())} images")
        for name in classes:
            print(f"  {name:<16} {counts[name]:>5}")
        if report.mixed_sizes:
            widths = sorted(w for w, _ in sizes)
            heights = sorted(h for _, h in sizes)
            print(
                f"mixed sizes: {len(sizes)} different sizes, widths {widths[0]}-{widths[-1]}, "
                f"heights {heights[0]}-{heights[-1]} pixels; every photo is resized to "
                f"`image_size` on loading."
            )
        if ignored:
            print(
                f"{len(ignored)} non-image file(s) are skipped, e.g. {ignored[0].name} "
                f"(Keras reads only {', '.join(IMAGE_EXTENSIONS)}; convert HEIC photos to JPEG)"
            )
    return report
