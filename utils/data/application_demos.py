"""Unit 17's tour of what CNNs are used for: a table of applications (inputs -> outputs) and
small, honest demos on photos bundled with scikit-image (no downloads, no pretrained weights).

- `APPLICATIONS`  one dict per application: what it computes, input, output, typical CNN
- `print_applications()`  the table, printed
- `demos(size=128)`  {name: Demo(input, output, note, score)}: each demo COMPUTES its output
  with a small classical method (bicubic interpolation, biharmonic inpainting, a ridge filter,
  colour statistics, a cascade detector, ...), the baseline a CNN is trained to beat
- `show_demos(demos)`  input/output pairs in one figure

The demos are not CNNs: they show the shape of each task (what goes in, what comes out) on
real photos, and the score printed with each is what a learned model would have to improve.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from utils.measure.images import psnr

#: The applications of the seed notes, with what each computes.
APPLICATIONS = [
    {
        "task": "recognition",
        "computes": "one label per image",
        "input": "image (H, W, 3)",
        "output": "class probabilities (K,)",
        "models": "LeNet ... EfficientNet (units 05-11)",
    },
    {
        "task": "detection",
        "computes": "a box and a label per object",
        "input": "image (H, W, 3)",
        "output": "boxes (n, 4) + labels (n,)",
        "models": "Faster R-CNN, YOLO, SSD",
    },
    {
        "task": "inpainting",
        "computes": "plausible pixels for a hole",
        "input": "image + hole mask",
        "output": "image (H, W, 3)",
        "models": "context encoders, partial-conv U-Nets",
    },
    {
        "task": "colouring",
        "computes": "colour from brightness",
        "input": "grayscale (H, W, 1)",
        "output": "colour (H, W, 3)",
        "models": "encoder-decoder CNNs (Zhang et al. 2016)",
    },
    {
        "task": "defect detection",
        "computes": "where a surface is abnormal",
        "input": "image (H, W, C)",
        "output": "anomaly map (H, W) / OK-defect",
        "models": "CNN classifiers, autoencoders, U-Net",
    },
    {
        "task": "style transfer",
        "computes": "content of one image, style of another",
        "input": "content + style images",
        "output": "image (H, W, 3)",
        "models": "Gatys et al. (VGG Gram matrices), fast feed-forward nets",
    },
    {
        "task": "medical diagnosis",
        "computes": "findings / per-pixel structures",
        "input": "scan or photo (H, W, C)",
        "output": "label or mask (H, W)",
        "models": "ResNet/DenseNet classifiers, U-Net (unit 13)",
    },
    {
        "task": "super-resolution",
        "computes": "a sharper, larger image",
        "input": "image (H, W, 3)",
        "output": "image (sH, sW, 3)",
        "models": "SRCNN, ESRGAN (learned upsampling, unit 12)",
    },
    {
        "task": "captioning",
        "computes": "a sentence about the image",
        "input": "image (H, W, 3)",
        "output": "word ids (T,)",
        "models": "CNN encoder + LSTM decoder (Show and Tell)",
    },
]


def print_applications() -> None:
    """Print APPLICATIONS as an aligned table."""
    cols = ["task", "computes", "input", "output", "models"]
    width = {c: max(len(c), *(len(a[c]) for a in APPLICATIONS)) for c in cols}
    print("  ".join(c.ljust(width[c]) for c in cols))
    for a in APPLICATIONS:
        print("  ".join(a[c].ljust(width[c]) for c in cols))


@dataclass
class Demo:
    """One demo: input and output images (H, W) or (H, W, 3) floats in [0, 1], a caption,
    a measured score and the score of the naive reference it is compared with."""

    input: np.ndarray
    output: np.ndarray
    note: str
    score: float
    reference: float
    higher_is_better: bool = True

    @property
    def beats_reference(self) -> bool:
        if self.higher_is_better:
            return self.score > self.reference
        return self.score < self.reference


def _photo(name: str, size: int) -> np.ndarray:
    from skimage import data, transform
    from skimage.util import img_as_float

    image = img_as_float(getattr(data, name)())
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = image[top : top + side, left : left + side]
    return np.clip(transform.resize(crop, (size, size), anti_aliasing=True), 0, 1)


def _super_resolution(size):
    from skimage import transform

    hr = _photo("coffee", size)
    lr = transform.resize(hr, (size // 4, size // 4), anti_aliasing=True)
    bicubic = np.clip(transform.resize(lr, (size, size), order=3), 0, 1)
    nearest = transform.resize(lr, (size, size), order=0)
    return Demo(
        lr, bicubic, "4x up, bicubic (PSNR dB vs nearest)", psnr(bicubic, hr), psnr(nearest, hr)
    )


def _inpainting(size):
    from skimage.restoration import inpaint_biharmonic

    image = _photo("astronaut", size)
    mask = np.zeros((size, size), dtype=bool)
    s = size // 8
    mask[size // 2 - s : size // 2 + s, size // 3 - s : size // 3 + s] = True
    holed = image.copy()
    holed[mask] = 0
    filled = np.clip(inpaint_biharmonic(holed, mask, channel_axis=-1), 0, 1)
    score = psnr(filled[mask], image[mask])
    mean_fill = holed.copy()
    mean_fill[mask] = image[~mask].mean(axis=0)
    return Demo(
        holed,
        filled,
        "biharmonic fill (PSNR dB in the hole vs mean colour)",
        score,
        psnr(mean_fill[mask], image[mask]),
    )


def _colouring(size, levels: int = 32):
    image = _photo("chelsea", size)
    gray = image @ np.array([0.299, 0.587, 0.114])
    # The smallest learned colouriser: the mean colour of each brightness level, learned on
    # the left half of the photo, applied to the right half (which it has not seen).
    bins = np.minimum((gray * levels).astype(int), levels - 1)
    half = size // 2
    table = np.tile(np.linspace(0, 1, levels)[:, None], (1, 3))  # unseen level: stay gray
    for b in np.unique(bins[:, :half]):
        table[b] = image[:, :half][bins[:, :half] == b].mean(axis=0)
    coloured = table[bins]
    right = np.s_[:, half:]
    gray_rgb = np.repeat(gray[..., None], 3, axis=-1)
    return Demo(
        gray,
        coloured,
        "colour per brightness, learned on the left half (PSNR dB, right half, vs gray)",
        psnr(coloured[right], image[right]),
        psnr(gray_rgb[right], image[right]),
    )


def _detection(size):
    from skimage import data
    from skimage.feature import Cascade

    image = _photo("astronaut", size)
    gray = image @ np.array([0.299, 0.587, 0.114])
    detector = Cascade(data.lbp_frontal_face_cascade_filename())
    found = detector.detect_multi_scale(
        img=gray,
        scale_factor=1.2,
        step_ratio=1,
        min_size=(size // 8, size // 8),
        max_size=(size // 2, size // 2),
    )
    boxed = image.copy()
    for f in found:
        r, c, h, w = f["r"], f["c"], f["height"], f["width"]
        boxed[r : r + h, [c, min(c + w, size - 1)]] = (1, 1, 0)
        boxed[[r, min(r + h, size - 1)], c : c + w] = (1, 1, 0)
    return Demo(image, boxed, "face boxes (LBP cascade, not a CNN)", float(len(found)), 0.0)


def _defect(size, seed=0):
    from scipy import ndimage

    texture = _photo("brick", size)
    rng = np.random.default_rng(seed)
    defect = np.zeros((size, size), dtype=bool)
    r0, c0 = rng.integers(size // 4, 3 * size // 4, size=2)
    for t in range(size // 3):  # a diagonal scratch
        defect[min(r0 + t // 2, size - 1), min(c0 + t, size - 1)] = True
    defect = ndimage.binary_dilation(defect)
    damaged = texture.copy()
    damaged[defect] = 1.0
    # Anomaly score: how far each pixel is from its neighbourhood's median.
    score_map = np.abs(damaged - ndimage.median_filter(damaged, size=7))
    score_map = ndimage.uniform_filter(score_map, 3)
    top = score_map >= np.quantile(score_map, 1 - defect.mean())
    precision = float((top & defect).sum() / top.sum())
    return Demo(
        damaged,
        score_map / score_map.max(),
        "anomaly map (precision of top pixels vs area)",
        precision,
        float(defect.mean()),
    )


def _style(size):
    from skimage import color

    content = _photo("astronaut", size)
    style = _photo("coffee", size)
    lab_c, lab_s = color.rgb2lab(content), color.rgb2lab(style)
    mu_c, sd_c = lab_c.mean((0, 1)), lab_c.std((0, 1))
    mu_s, sd_s = lab_s.mean((0, 1)), lab_s.std((0, 1))
    out = np.clip(color.lab2rgb((lab_c - mu_c) / sd_c * sd_s + mu_s), 0, 1)

    # Distance of colour statistics to the style image's, before and after.
    def stats(rgb):
        lab = color.rgb2lab(rgb)
        return np.r_[lab.mean((0, 1)), lab.std((0, 1))]

    target = stats(style)
    return Demo(
        content,
        out,
        "colour statistics of coffee (Reinhard; Gatys: Gram matrices)",
        float(np.abs(stats(out) - target).mean()),
        float(np.abs(stats(content) - target).mean()),
        higher_is_better=False,
    )


def _medical(size):
    from skimage import data, transform
    from skimage.filters import sato
    from skimage.util import img_as_float

    retina = img_as_float(data.retina())
    h, w = retina.shape[:2]
    crop = retina[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4]
    image = np.clip(transform.resize(crop, (size, size), anti_aliasing=True), 0, 1)
    green = image[..., 1]  # vessels have the best contrast in the green channel
    vessels = sato(green, sigmas=[1, 2], black_ridges=True)
    vessels = vessels / vessels.max()
    # Vessels are dark: the ridge response should be higher where green is darker.
    return Demo(
        image,
        vessels,
        "vessel ridges of a retina (Sato filter; CNN: U-Net)",
        float(-np.corrcoef(vessels.ravel(), green.ravel())[0, 1]),
        0.0,
    )


def demos(size: int = 128) -> dict[str, Demo]:
    """Compute the demos on bundled photos at size x size. Takes a few seconds on a CPU."""
    return {
        "detection": _detection(size),
        "inpainting": _inpainting(size),
        "colouring": _colouring(size),
        "defect detection": _defect(size),
        "style transfer": _style(size),
        "medical": _medical(size),
        "super-resolution": _super_resolution(size),
    }
