"""The course as a whole: every concept has its lesson, and notebooks only point at
things that exist (relative links, bplearn modules and names)."""
import ast
import importlib
import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"
LESSONS = sorted(COURSE.glob("[0-9][0-9]_*.ipynb"))
ALL_NOTEBOOKS = sorted(
    p for d in ("course", "solutions", "exercises") for p in (ROOT / d).rglob("*.ipynb")
    if ".ipynb_checkpoints" not in p.parts
)
NUM_CONCEPTS = 17
NUM_LESSONS = 13


def cells(path, kind):
    return ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == kind]


def headings(path):
    return {line.strip() for md in cells(path, "markdown") for line in md.splitlines() if line.startswith("#")}


def concept_index():
    """Rows of the table in course/README.md: | # | concept | notebook | section |."""
    rows = []
    for line in (COURSE / "README.md").read_text().splitlines():
        parts = [p.strip() for p in line.strip().strip("|").split("|")]
        if len(parts) == 4 and parts[0].isdigit():
            rows.append((int(parts[0]), parts[1], parts[2].strip("`"), parts[3].strip("`")))
    return rows


def test_every_lesson_of_the_sequence_exists():
    numbers = [p.name[:2] for p in LESSONS]
    assert numbers == [f"{i:02d}" for i in range(NUM_LESSONS)], f"lessons found: {numbers}"


def test_course_index_covers_every_concept_of_the_course_map():
    covered = {number for number, *_ in concept_index()}
    missing = set(range(1, NUM_CONCEPTS + 1)) - covered
    assert not missing, f"course/README.md has no lesson for concept rows {sorted(missing)}"


@pytest.mark.parametrize("row", concept_index(), ids=lambda r: f"concept{r[0]}-{r[2]}")
def test_each_indexed_section_exists_in_its_notebook(row):
    number, concept, notebook, section = row
    path = COURSE / notebook
    assert path.exists(), f"concept {number} ({concept}) points at missing notebook {notebook}"
    assert section in headings(path), f"{notebook} has no heading '{section}' (concept {number}: {concept})"


LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_in_notebooks_resolve(path):
    for md in cells(path, "markdown"):
        for target in LINK.findall(md):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue  # web links and in-page anchors are not files
            # a solution lesson's links are those of its generated twin in course/
            folder = ROOT / "course" if path.parent.name == "lessons" else path.parent
            file = (folder / target.split("#")[0]).resolve()
            assert file.exists(), f"{path.name} links to {target}, which does not exist"


def bplearn_imports(source):
    """(module, [names]) for every `import bplearn...` / `from bplearn... import ...`."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics or deliberately unfinished learner code
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bplearn"):
            found.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names if a.name.startswith("bplearn")]
    return found


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_bplearn_imports_in_notebooks_resolve(path):
    for source in cells(path, "code"):
        for module_name, names in bplearn_imports(source):
            module = importlib.import_module(module_name)
            for name in names:
                if not hasattr(module, name):
                    importlib.import_module(f"{module_name}.{name}")  # a submodule, or ImportError


def test_ignore_output_tags_are_few():
    tagged = {
        p.name: sum("nbval-ignore-output" in c.get("metadata", {}).get("tags", [])
                    for c in json.loads(p.read_text())["cells"])
        for p in LESSONS
    }
    print("nbval-ignore-output tags per lesson:", tagged)
    assert sum(tagged.values()) <= NUM_LESSONS, f"too many ignore-output tags: {tagged}"
