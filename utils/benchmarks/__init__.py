"""Speed benchmarks of the course: `python -m utils.benchmarks` (what `make bench` runs).

- `utils.benchmarks.conv`  unit 03: one convolution layer computed by Python loops, by
  im2col + one matrix multiply (GEMM), and by Keras Conv2D, against the machine's NumPy
  matrix-multiply rate. The im2col + GEMM code is not in this package (it is the lab's answer):
  it is loaded from a notebook, `solutions/03_conv_as_gemm.ipynb` by default or the learner's
  lab with `--notebook labs/03_conv_as_gemm.ipynb`.

Importing this package loads nothing heavy; TensorFlow is imported when a benchmark runs.
"""
