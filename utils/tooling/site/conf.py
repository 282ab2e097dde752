"""Sphinx configuration of the course website; `build` copies it into the staging folder.

Notebooks are rendered as they are (`nb_execution_mode = "off"`): the lectures arrive already
executed, the labs have no outputs. Nothing is loaded from the web: MathJax comes from the
`sphinx-mathjax-offline` package, the theme's assets from its wheel.
"""

from utils.course import BRANCH, REPOSITORY

project = "Convolutional Neural Networks with Keras 3"
author = "the course authors"
copyright = "the course authors, MIT License"
extensions = ["myst_nb", "sphinx-mathjax-offline"]
exclude_patterns = ["_build", "_extra", "**.ipynb_checkpoints"]
html_extra_path = ["_extra"]
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_js_files = ["course-mode.js"]
html_favicon = "_static/favicon.svg"
html_title = project
html_theme = "sphinx_book_theme"
html_theme_options = {
    "repository_url": REPOSITORY,
    "repository_branch": BRANCH,
    "use_repository_button": True,
    # every page carries its own "Open in Colab" and download links (see pages.links_html)
    "use_download_button": False,
    "home_page_in_toc": True,
    "show_toc_level": 2,
}
html_last_updated_fmt = None
html_copy_source = False
html_show_sourcelink = False
nb_execution_mode = "off"
# warnings a cell printed are part of its run: shown, as Jupyter shows them
nb_output_stderr = "show"
# GitHub's anchors for headings, so the README's `](#on-colab)` links work on the home page
myst_heading_anchors = 3
myst_enable_extensions = ["dollarmath", "amsmath"]
suppress_warnings = ["myst.header"]
