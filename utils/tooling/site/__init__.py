"""The course as a static website (Sphinx + MyST-NB), built from executed lecture notebooks.

`python -m utils.tooling.site` (or `make site`) writes the site to `build/site/`. Modules:
`executed` finds or makes the executed lectures, `pages` writes the home, syllabus and runtime
pages, `build` stages everything and runs Sphinx with the `conf.py` of this folder.
"""
