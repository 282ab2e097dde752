"""The course website in a real browser: headless Chromium (Debian's) loads every page of
`build/site/` from a local server and the checks below read what it rendered.

Run by `make site-check` (which builds the site first); `make test` leaves it out (marker
`site`). Screenshots of the home page and one lecture page go to `build/site-screenshots/`.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import nbformat
import pytest
from test_release import _secret_lines  # the leak test of the labs, reused as it is

from utils.course import colab_url
from utils.tooling import nbfiles

pytestmark = pytest.mark.site

ROOT = nbfiles.root()
SITE = ROOT / "build" / "site"
STAGED = ROOT / "build" / "site-src"
SHOTS = ROOT / "build" / "site-screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
#: The flags without which Chromium's background services open connections that fail here.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
]
UNITS = [p.name for p in nbfiles.course_notebooks("notebooks")]
SCREENSHOT_LECTURE = "05_lenet.ipynb"
#: Inline or display math in a markdown cell ($x$, $$...$$).
MATH = re.compile(r"\$[^$\s][^$]*\$")

#: What the page looks like once loaded: every image with its natural size, every link and
#: every resource it asked for, and its visible text.
PAGE_STATE_JS = """
const abs = (u) => new URL(u, document.baseURI).href;
return {
  images: [...document.images].map(i => ({src: i.currentSrc || i.src, complete: i.complete,
           width: i.naturalWidth, output: !!i.closest('.cell_output')})),
  links: [...document.querySelectorAll('a[href]')].map(a => a.href),
  resources: [...document.querySelectorAll('script[src], link[rel=stylesheet][href], img[src]')]
             .map(e => abs(e.getAttribute('src') || e.getAttribute('href'))),
  colab: [...document.querySelectorAll('a.course-colab')].map(a => a.href),
  download: [...document.querySelectorAll('a.course-download')].map(a => a.href),
  math: document.querySelectorAll('mjx-container').length,
  search: document.querySelectorAll('input[name=q], form[action*=search]').length,
  rows: [...document.querySelectorAll('table tr')].map(r => [...r.cells].map(c => c.innerText.trim())),
  text: document.body.innerText,
};
"""


def _fail_setup(message: str):
    pytest.fail(message, pytrace=False)


@pytest.fixture(scope="module")
def site() -> Path:
    if not (SITE / "index.html").exists():
        _fail_setup("build/site/ is not built: run `make site` (or `make site-check`) first.")
    return SITE


@pytest.fixture(scope="module")
def server(site):
    """The site on http://127.0.0.1:<free port>/, served from a thread."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # the browser dropping a preload it no longer needs (a broken pipe) is no error

    handler = functools.partial(Quiet, directory=str(site))
    httpd = Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        _fail_setup(
            "Debian's chromium and chromium-driver are needed: run `make browser` "
            "(as root it runs apt-get install chromium chromium-driver)."
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="site-check-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _load(driver, url: str) -> dict:
    """Open `url`, wait until its images settled, return PAGE_STATE_JS's answer + console."""
    driver.get(url)
    driver.execute_script(
        "document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager');"
        "window.scrollTo(0, document.body.scrollHeight);"
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        ready = driver.execute_script(
            "return document.readyState === 'complete' && [...document.images].every(i => i.complete)"
        )
        if ready:
            break
        time.sleep(0.2)
    driver.set_script_timeout(20)
    driver.execute_async_script(  # MathJax typesets after the load: wait for it, if present
        "const done = arguments[arguments.length - 1];"
        "const p = window.MathJax && MathJax.startup && MathJax.startup.promise;"
        "p ? p.then(() => done(true), () => done(false)) : done(null);"
    )
    time.sleep(0.3)  # let the theme's scripts report their errors, if any
    state = driver.execute_script(PAGE_STATE_JS)
    state["console"] = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    driver.execute_script("window.scrollTo(0, 0);")
    return state


@pytest.fixture(scope="module")
def visits(site, server, browser) -> dict[str, dict]:
    """Every HTML page of the site, loaded once: {"lectures/05_lenet.html": state}."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    pages = sorted(
        p.relative_to(site).as_posix()
        for p in site.rglob("*.html")
        if not p.relative_to(site).as_posix().startswith("_static/")  # theme's templates
    )
    states = {}
    for page in pages:
        states[page] = _load(browser, server + page)
        if page == "index.html":
            browser.save_screenshot(str(SHOTS / "home.png"))
        if page == f"lectures/{SCREENSHOT_LECTURE.removesuffix('.ipynb')}.html":
            browser.save_screenshot(str(SHOTS / "lecture.png"))
            browser.execute_script(
                "const f = document.querySelector('.cell_output img');"
                "if (f) f.scrollIntoView({block: 'center'});"
            )
            time.sleep(0.3)
            browser.save_screenshot(str(SHOTS / "lecture-figure.png"))
    return states


class Links:
    """Status of internal URLs (fetched once each) and the ids each HTML page holds."""

    def __init__(self, base: str):
        self.base = base
        self._status: dict[str, int] = {}
        self._body: dict[str, str] = {}

    def status(self, url: str) -> int:
        if url not in self._status:
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    self._status[url] = response.status
                    if url.endswith(".html") or url.endswith("/"):
                        self._body[url] = response.read().decode("utf-8", "replace")
            except urllib.error.HTTPError as exc:
                self._status[url] = exc.code
        return self._status[url]

    def has_anchor(self, url: str, fragment: str) -> bool:
        body = self._body.get(url)
        if body is None:  # not an HTML page: nothing to point into
            return True
        anchor = urllib.parse.unquote(fragment)
        return f'id="{anchor}"' in body or f'name="{anchor}"' in body


def test_every_page_loads_without_errors_broken_links_or_missing_images(visits, server):
    links = Links(server)
    missing = [
        f"no page for {kind}/{n.removesuffix('.ipynb')}"
        for n in UNITS
        for kind in ("lectures", "labs")
        if f"{kind}/{n.removesuffix('.ipynb')}.html" not in visits
    ]
    problems = []
    for page, state in visits.items():
        for entry in state["console"]:
            problems.append(f"{page}: JavaScript/console error: {entry['message']}")
        for url in state["resources"]:
            if not url.startswith(server):
                problems.append(f"{page}: loads {url} from outside the site (fails offline)")
        for image in state["images"]:
            if not image["complete"] or image["width"] == 0:
                problems.append(f"{page}: image did not render: {image['src']}")
        for url in set(state["links"]) | set(state["resources"]):
            if not url.startswith(server):
                continue
            target, _, fragment = url.partition("#")
            code = links.status(target)
            if code != 200:
                problems.append(f"{page}: broken link {url} (HTTP {code})")
            elif fragment and not links.has_anchor(target, fragment):
                problems.append(f"{page}: link {url} points to no element with id {fragment!r}")
    problems += missing
    assert not problems, "\n".join(problems[:40]) + f"\n({len(problems)} problem(s))"


def _image_outputs(path: Path) -> int:
    nb = nbformat.read(str(path), as_version=4)
    return sum(
        1
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if any(k.startswith("image/") for k in o.get("data", {}))
    )


def test_lecture_pages_show_every_figure_of_their_run_and_say_which_run(visits):
    for name in UNITS:
        stem = name.removesuffix(".ipynb")
        state = visits[f"lectures/{stem}.html"]
        expected = _image_outputs(STAGED / "lectures" / name)
        shown = [i for i in state["images"] if i["output"] and i["width"] > 0]
        assert len(shown) >= expected, f"{name}: {len(shown)} figures shown of {expected} run"
        assert "come from a run of the notebook in the smoke profile" in state["text"], name
        nb = nbformat.read(str(STAGED / "lectures" / name), as_version=4)
        if any(MATH.search(c.source) for c in nb.cells if c.cell_type == "markdown"):
            assert state["math"], f"{name}: its formulas were not typeset by MathJax"
    # the lectures do have figures and formulas: the checks above are not vacuous
    assert sum(visits[f"lectures/{n.removesuffix('.ipynb')}.html"]["math"] for n in UNITS)
    assert sum(_image_outputs(STAGED / "lectures" / n) for n in UNITS) >= len(UNITS)


def _leaks(text: str, secrets: set[str]) -> list[str]:
    return sorted(s for s in secrets if s in text)


def test_lab_pages_and_downloads_hold_no_answer_or_hidden_test(visits):
    secrets = _secret_lines()
    assert secrets, "the solutions have distinctive lines to look for"
    # the detector finds the answers where they are: in the solutions themselves
    solution = nbfiles.read(ROOT / "solutions" / UNITS[1])
    assert _leaks("\n".join(c.source for c in solution.cells), secrets)
    for name in UNITS:
        page = visits[f"labs/{name.removesuffix('.ipynb')}.html"]["text"]
        assert not _leaks(page, secrets), f"labs/{name} page shows {_leaks(page, secrets)[:3]}"
        assert "BEGIN SOLUTION" not in page and "HIDDEN TESTS" not in page, name
        lab = nbformat.read(str(SITE / "downloads" / "labs" / name), as_version=4)
        text = "\n".join(c.source for c in lab.cells)
        assert not _leaks(text, secrets), f"downloads/labs/{name} holds solution text"
    with zipfile.ZipFile(SITE / "downloads" / "cnn-course-notebooks.zip") as zf:
        for member in zf.namelist():
            nb = nbformat.reads(zf.read(member).decode(), as_version=4)
            text = "\n".join(c.source for c in nb.cells)
            assert not _leaks(text, secrets), f"the zip's {member} holds solution text"
    leaked_files = [
        p.relative_to(SITE).as_posix()
        for p in SITE.rglob("*")
        if p.suffix in (".html", ".js", ".txt")
        and _leaks(p.read_text(errors="replace"), {s for s in secrets if '"' not in s})
    ]
    assert not leaked_files, f"solution text in {leaked_files[:5]}"


def test_every_page_links_to_colab_and_to_a_download(visits, server):
    for page, state in visits.items():
        if page in ("genindex.html", "search.html"):
            continue
        assert state["colab"] and state["download"], f"{page}: no Colab or download link"
    for name in UNITS:
        stem = name.removesuffix(".ipynb")
        for folder, kind in (("notebooks", "lectures"), ("labs", "labs")):
            state = visits[f"{kind}/{stem}.html"]
            assert state["colab"] == [colab_url(f"{folder}/{name}")], f"{kind}/{stem}"
            (download,) = state["download"]
            with urllib.request.urlopen(download, timeout=10) as response:
                body = response.read()
            assert body == (ROOT / folder / name).read_bytes(), f"{download} is not {folder}/{name}"


def test_the_search_box_finds_a_lecture(visits, server, browser):
    assert visits["index.html"]["search"], "the home page has no search box"
    browser.get(server + "search.html?q=convolution")
    deadline = time.monotonic() + 30
    hits: list[str] = []
    while time.monotonic() < deadline and not hits:
        time.sleep(0.5)
        hits = browser.execute_script(
            "return [...document.querySelectorAll('#search-results a')].map(a => a.href)"
        )
    assert any("lectures/01_convolution.html" in h for h in hits), f"search results: {hits[:5]}"


def test_runtime_table_lists_every_lecture_with_its_seconds(visits):
    rows = visits["runtimes.html"]["rows"]
    assert rows[0][:5] == ["#", "notebook", "profile", "lecture run (s)", "run by"], rows[0]
    for name in UNITS:
        (row,) = [r for r in rows if r[1:2] == [name]]
        assert row[2] == "smoke" and row[4] in ("make test", "make site"), row
        assert row[3] == "not recorded" or float(row[3]) > 0, row
    syllabus = visits["syllabus.html"]["text"]
    titles = [nbfiles.read(ROOT / "notebooks" / n).cells[0].source.splitlines()[0] for n in UNITS]
    at = [syllabus.find(t.removeprefix("# ").strip()) for t in titles]
    assert -1 not in at and at == sorted(at), "the syllabus lists every lecture in unit order"


def test_screenshots_were_kept(visits):
    for shot in ("home.png", "lecture.png", "lecture-figure.png"):
        path = SHOTS / shot
        assert path.exists() and path.stat().st_size > 10_000, f"{path} missing or empty"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
