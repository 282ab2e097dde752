"""The course's helper package: the plumbing behind the notebooks, organised by role.

Notebooks teach; `utils` does the plumbing. Importing `utils` itself loads nothing heavy, and
no module does anything when imported.

    utils/
      course.py, notebook.py  start-up and course identity: repository, release, profiles,
                              paths; `start()` resolves the profile, seeds, reports the device
      lazy_index.py           the index behind utils.plots, utils.measure, utils.networks
      measure/                what the course measures: MACs, parameters and layer tables,
                              receptive fields, speed, errors, gradients, published figures,
                              records, accuracy bands, convolution geometry, segmentation IoU
      data/                   data sets of both profiles: registry, checked downloads, readers
                              of the on-disk formats, offline stand-ins, photos, image folders
      networks/               layers and models the course reuses (LRN, unit 04's NumPy CNN,
                              transfer backbones, the small inspectable CNN)
      training.py             training several models on one recipe (unit 06)
      plots/                  figures, one module per kind of picture: images, pixels, masks,
                              curves, charts, explorers (grids with sliders)
      checks/                 the labs' self-checks, one module per unit, named as the unit
                              (`checks.lenet` for 05_lenet), on `checks.core` and `checks.structure`;
                              `checks.references` marks the references the release replays
      tooling/                instructor tooling (lint, labs, grading, release, site, Colab job);
                              in a clone only, not in the installed package

`utils.plots`, `utils.measure` and `utils.networks` index their names: `plots.show_images`,
`measure.count_macs` and `networks.small_cnn` load the submodule that defines them on first use.

Import rule (`make lint` enforces it, see `utils.tooling.layout`): a module may import only its
own role and the roles to its left, and lectures (`notebooks/`) never import `utils.checks` or
`utils.tooling`:

    course/notebook <- measure <- data <- networks <- training <- checks <- tooling
                       measure <- plots

plots are imported only by notebooks and tooling: checks never draw, plots never train, and
nothing a learner installs needs the tooling.
"""

__version__ = "0.1.0"
