"""The course's helper package: the plumbing behind the notebooks.

Submodules (import the one you need; importing `utils` itself loads nothing heavy):

- `utils.course`    the course's identity: repository URL, profiles, paths
- `utils.notebook`  `start()`: resolve the run profile, seed everything, report the device
- `utils.data`      data sets: registry, checked downloads, offline stand-ins, photos
- `utils.plots`     image grids, kernels on photos, feature maps, training curves
- `utils.pixel_plots` images as numbers: annotated pixel grids, channel splits, task overlays
- `utils.gradcheck` numeric gradients and a CS231n-style gradient-check report
- `utils.shallow_cnn` unit 04's NumPy shallow CNN: forward passes, parameters, the SGD loop
- `utils.lineplots` curves in side-by-side panels (measures against a parameter, functions and
                    their derivatives)
- `utils.checks`    the self-checks that labs call, against independent references
- `utils.training`  small training helpers (accuracy bands)
- `utils.tooling`   lab builder, notebook runner, notebook lint (`python -m utils.tooling`)
"""

__version__ = "0.1.0"
