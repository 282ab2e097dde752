"""Speed benchmarks of the course: `python -m utils.benchmarks` (what `make bench` runs).

- `utils.benchmarks.conv`  unit 03: one convolution layer computed by Python loops, by
  im2col + one matrix multiply (GEMM), and by Keras Conv2D, against the machine's NumPy
  matrix-multiply rate. The loop and im2col + GEMM code are not in this package (they are labs'
  answers): a notebook passes its own functions to `conv.compare`; the command line loads them
  from `solutions/01_convolution.ipynb` and `solutions/03_conv_as_gemm.ipynb` of the clone, or
  from the learner's lab with `--notebook labs/03_conv_as_gemm.ipynb`.

Importing this package loads nothing heavy; TensorFlow is imported when a benchmark runs.
"""
