"""The website's pages: notebooks prepared for the site, and the home, syllabus and runtime pages.

Every page gets a links bar with an "Open in Colab" link (`utils.course.colab_url`) and a
download link; lecture pages also get a note naming the profile and wall time of their run.
Paths: a lecture page is `lectures/<name>.html`, a lab page `labs/<name>.html`, the notebooks
to download `downloads/notebooks/<name>` and `downloads/labs/<name>`.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import nbformat

from utils.course import BRANCH, REPOSITORY, colab_url

#: The Colab badge that `make fmt` puts in every notebook's first cell (its image is on the web).
BADGE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)\n*")
ZIP_NAME = "cnn-course-notebooks.zip"
#: The README's sections that the home page shows, in this order.
README_SECTIONS = ("Start", "On Colab", "Two profiles, one notebook")


@dataclass(frozen=True)
class Unit:
    """One unit: `number` "05", `name` "05_lenet.ipynb", the lecture's and the lab's titles."""

    number: str
    name: str
    lecture_title: str
    lab_title: str

    @property
    def stem(self) -> str:
        return self.name.removesuffix(".ipynb")


def title_of(nb: nbformat.NotebookNode) -> str:
    """The text of the notebook's first `# ` heading."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    raise ValueError("the notebook has no '# ' title in a markdown cell")


def links_html(colab: str, download: str, download_label: str) -> str:
    """The links bar: raw HTML, so MyST leaves the (non-document) download path alone."""
    return (
        '<p class="course-links">'
        f'<a class="course-colab" href="{html.escape(colab)}">Open in Colab</a>'
        f'<a class="course-download" href="{html.escape(download)}" download>'
        f"{html.escape(download_label)}</a></p>"
    )


def _with_links(nb: nbformat.NotebookNode, links: str) -> nbformat.NotebookNode:
    """`nb` with the Colab badge of its first cell replaced by `links` after the title."""
    nb = nbformat.from_dict(nb)
    first = nb.cells[0]
    source = BADGE.sub("", first.source)
    lines = source.splitlines()
    at = next((i + 1 for i, line in enumerate(lines) if line.startswith("# ")), 0)
    first.source = "\n".join(lines[:at] + ["", links, ""] + lines[at:])
    return nb


def run_note(profile: str, seconds: float | None, origin: str) -> str:
    """The note on a lecture page saying which run produced its outputs."""
    took = (
        f"which took {seconds:.1f} s of wall time"
        if seconds is not None
        else "(its wall time was not recorded)"
    )
    return (
        "```{note}\n"
        f"The outputs on this page come from a run of the notebook in the **{profile}** profile "
        f"(by `{origin}`), {took}. The {profile} profile uses offline data and few epochs, so "
        "its figures and scores differ from a full run's. Opened from Colab or a clone, the notebook "
        "starts in the **full** profile: the real data set and epochs "
        "(see [the two profiles](../index.md#two-profiles-one-notebook)).\n"
        "```"
    )


def lecture_page(
    executed: nbformat.NotebookNode, name: str, profile: str, seconds: float | None, origin: str
) -> nbformat.NotebookNode:
    """The executed lecture with its links bar and, after its first cell, the run note."""
    links = links_html(
        colab_url(f"notebooks/{name}"), f"../downloads/notebooks/{name}", "Download the notebook"
    )
    nb = _with_links(executed, links)
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(run_note(profile, seconds, origin)))
    return nb


def lab_page(lab: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The blank lab (no outputs, no answers) with its links bar."""
    if any(c.get("outputs") for c in lab.cells if c.cell_type == "code"):
        raise ValueError(f"labs/{name} holds outputs: run `make labs` to regenerate it blank")
    links = links_html(colab_url(f"labs/{name}"), f"../downloads/labs/{name}", "Download the lab")
    return _with_links(lab, links)


def readme_section(readme: str, heading: str) -> str:
    """The body of the README's `## heading` section (up to the next `## `)."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", readme, re.M | re.S)
    if not match:
        raise ValueError(f"README.md has no '## {heading}' section, which the home page shows")
    return match.group(1).strip()


def heading_anchor(heading: str) -> str:
    """The anchor GitHub (and MyST, with `myst_heading_anchors`) gives a heading."""
    slug = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return slug.replace(" ", "-")


def local_anchors_only(markdown: str, anchors: set[str]) -> str:
    """`markdown` with every `](#anchor)` link that is not in `anchors` pointed at the README
    on GitHub, where that section is (the home page shows only some of the README)."""
    readme = f"{REPOSITORY}/blob/{BRANCH}/README.md"
    return re.sub(
        r"\]\(#([\w-]+)\)",
        lambda m: m.group(0) if m.group(1) in anchors else f"]({readme}#{m.group(1)})",
        markdown,
    )


def readme_intro(readme: str) -> str:
    """The README's paragraphs between its title and its first `## ` heading."""
    body = readme.split("\n", 1)[1]
    return body.split("\n## ", 1)[0].strip()


def _page_links(units: list[Unit]) -> str:
    return links_html(
        colab_url(f"notebooks/{units[0].name}"),
        f"downloads/{ZIP_NAME}",
        "Download all notebooks and labs (zip)",
    )


def _toctree(caption: str, docs: list[str]) -> str:
    return "```{toctree}\n:hidden:\n:caption: " + caption + "\n\n" + "\n".join(docs) + "\n```"


def home_page(readme: str, units: list[Unit]) -> str:
    """index.md: what the course is, who it is for, how to start (locally and on Colab), the
    two profiles: the README's own words, so the two never disagree."""
    first = units[0]
    text = "\n\n".join(
        [
            "# Convolutional Neural Networks with Keras 3",
            _page_links(units),
            readme_intro(readme),
            "## Who it is for",
            "- **Learners**: work through the units in order. For each, read and run the "
            "lecture (its page here shows the outputs of a run), then do the lab: its "
            "exercises check themselves. Start with "
            f"[{first.lecture_title}](lectures/{first.stem}.ipynb); the "
            "[syllabus](syllabus.md) lists every unit.\n"
            "- **Instructors**: the repository also holds the solution notebooks, the test "
            "suite and a grader for learners' labs; its README describes them.",
            *[f"## {h}\n\n{readme_section(readme, h)}" for h in README_SECTIONS],
            "## On this site",
            f"- [Syllabus](syllabus.md): the {len(units)} units in order, with their lectures, "
            "labs, Colab links and downloads.\n"
            "- [Run times](runtimes.md): how long each lecture took to execute for this site.\n"
            "- The search box (top left) searches every lecture and lab.",
            _toctree("Course", ["syllabus", "runtimes"]),
            _toctree("Lectures", [f"lectures/{u.stem}" for u in units]),
            _toctree("Labs", [f"labs/{u.stem}" for u in units]),
        ]
    )
    headings = [line.lstrip("#") for line in text.splitlines() if line.startswith("## ")]
    return local_anchors_only(text, {heading_anchor(h) for h in headings}) + "\n"


def syllabus_page(units: list[Unit]) -> str:
    """syllabus.md: one row per unit, in unit order."""
    rows = [
        "| # | lecture | lab | Colab | download |",
        "|---|---|---|---|---|",
    ]
    for u in units:
        colab = (
            f'<a href="{colab_url(f"notebooks/{u.name}")}">lecture</a> · '
            f'<a href="{colab_url(f"labs/{u.name}")}">lab</a>'
        )
        down = (
            f'<a href="downloads/notebooks/{u.name}" download>lecture</a> · '
            f'<a href="downloads/labs/{u.name}" download>lab</a>'
        )
        rows.append(
            f"| {u.number} | [{u.lecture_title}](lectures/{u.stem}.ipynb) "
            f"| [{u.lab_title}](labs/{u.stem}.ipynb) | {colab} | {down} |"
        )
    return (
        "\n\n".join(
            [
                "# Syllabus",
                _page_links(units),
                "Work through the units in order: for each unit read and run the lecture, then do "
                "the lab. A lecture page shows the outputs of a run in the smoke profile; a lab "
                "page shows the exercises, blank, as you get them.",
                "\n".join(rows),
            ]
        )
        + "\n"
    )


def runtimes_page(
    units: list[Unit], runs: dict[str, tuple[str, float | None, str]], timings: dict
) -> str:
    """runtimes.md: the wall time of each lecture's run, plus any other timings `make test`
    recorded per notebook (`timings`: `{"05_lenet.ipynb": {"lecture": 41.2, ...}}`).
    `runs[name]` is (profile, seconds, origin) of the run the page shows."""
    extra = sorted({k for t in timings.values() for k in t} - {"lecture"})
    head = ["#", "notebook", "profile", "lecture run (s)", "run by"] + [f"{k} (s)" for k in extra]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    total = 0.0
    for u in units:
        profile, seconds, origin = runs[u.name]
        total += seconds or 0.0
        shown = f"{seconds:.1f}" if seconds is not None else "not recorded"
        cells = [u.number, f"[{u.name}](lectures/{u.stem}.ipynb)", profile, shown, f"`{origin}`"]
        for k in extra:
            value = timings.get(u.name, {}).get(k)
            cells.append(f"{value:.1f}" if isinstance(value, int | float) else "")
        rows.append("| " + " | ".join(cells) + " |")
    return (
        "\n\n".join(
            [
                "# Run times",
                _page_links(units),
                "Wall time of each lecture's execution, top to bottom in a fresh kernel, in the "
                "profile shown: the run whose outputs its page shows. Runs share their machine "
                "with whatever else it is doing, so treat the seconds as an upper bound of what "
                f"the notebook needs. Sum of the lecture runs: {total:.1f} s.",
                "\n".join(rows),
            ]
        )
        + "\n"
    )
