"""The machinery behind the make targets (`python -m utils.tooling --help`).

- `nbfiles`  reading, normalising and writing notebooks; finding the course's notebooks
- `labs`     building `labs/` from `solutions/` (nbgrader's markers)
- `runner`   executing notebooks with papermill / nbclient in a chosen profile
- `rules`    the notebook rules `make lint` enforces
"""
