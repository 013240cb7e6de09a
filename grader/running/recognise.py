"""Recognise a submitted notebook, and each of its cells, by what it holds.

Editors, browsers and habits change notebooks: Colab and browsers rename the file ("Copy of
spotify.ipynb", "spotify (1).ipynb"), some editors keep only the source (no nbgrader metadata,
no cell ids), students copy a cell to keep the original, or turn one into Markdown by a stray
key. A cell is therefore known, in this order, by nbgrader's grade id where it survived, else by
the cell id the release gave it (the grade id with hyphens), else by its text against the
released text (the kit knows every locked cell, in every language), else by its place between
the cells it was released between. The answer is what the notebook does when run top to bottom:
of the cells that claim an answer, the last one that builds what the answer defines.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import lru_cache

from ..assignments import all_assignments, of_notebook
from ..base.i18n import use

BY_GRADE_ID, BY_CELL_ID, BY_TEXT, BY_PLACE = "grade id", "cell id", "text", "place"
BY_COPY = "copy"  # an added cell that builds what an answer defines, beside it
MAX_PARSED_CHARS = 200_000  # a cell larger than this is never parsed to see what it builds (a hostile one)
MIN_TEXT_MATCHES = 2  # released cells a notebook must hold, word for word, to be known by its text


@dataclass(frozen=True)
class ReleasedCell:
    """One cell of the release: its grade id, kind and every text it was released with."""

    grade_id: str
    cell_type: str
    role: str  # "locked", "answer" (code), "free" (a written answer), "test"
    texts: frozenset  # normalized sources: the solution and the student release, every language
    defines: frozenset = frozenset()  # for an answer: the names its solution assigns


@dataclass
class Labels:
    """What each student cell is: ``of[i]`` a grade id or None, ``how[i]`` by what it was known."""

    of: list
    how: list
    changed_type: dict = field(default_factory=dict)  # answer grade id -> the type its cell has now
    chosen: dict = field(default_factory=dict)  # answer grade id -> index of the cell graded as the answer
    claimants: dict = field(default_factory=dict)  # answer grade id -> indices of the code cells that claim it

    def how_known(self) -> str:
        """The weakest way any released cell was recognised: what a report says of the notebook."""
        found = set(filter(None, self.how))
        return next((way for way in (BY_PLACE, BY_TEXT, BY_CELL_ID) if way in found), BY_GRADE_ID)


def normalized(source) -> str:
    """A cell's text without the differences editors make: line endings, trailing blanks."""
    text = "".join(source) if isinstance(source, list) else str(source or "")
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip("\n")


def _role(cell) -> str:
    meta = cell.metadata.get("nbgrader", {})
    if meta.get("solution"):
        return "answer" if cell.cell_type == "code" else "free"
    if meta.get("grade"):
        return "test"
    return "locked"


def _defined_names(source: str) -> frozenset:
    """The top-level names a cell assigns or defines (``model``; a function; a class)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return frozenset()
    names = set()
    for node in tree.body:
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        for target in targets:
            names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return frozenset(names)


def builds(source: str, names: frozenset) -> bool:
    """Whether a cell (re)builds one of ``names``: assigns or defines it, or adds layers to it."""
    if not names or len(source) > MAX_PARSED_CHARS:
        return False
    if _defined_names(source) & names:
        return True
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "add"
               and isinstance(n.func.value, ast.Name) and n.func.value.id in names for n in ast.walk(tree))


@lru_cache(maxsize=None)
def released(notebook: str) -> tuple:
    """The release of ``notebook``, cell by cell in order, with the texts of every language."""
    import nbformat

    unit = of_notebook(notebook)
    order, kinds, roles, texts, defines = [], {}, {}, {}, {}
    for lang in unit.releases:
        with use(lang):
            canonical = unit.builders[notebook]()
        for cell in canonical.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if not gid:
                continue
            if gid not in kinds:
                order.append(gid)
                kinds[gid], roles[gid] = cell.cell_type, _role(cell)
                defines[gid] = _defined_names(cell.source) if roles[gid] == "answer" else frozenset()
            texts.setdefault(gid, set()).add(normalized(cell.source))
        try:
            path = unit.exercise_notebooks(lang).get(notebook)
        except FileNotFoundError:
            path = None
        if path is not None:
            for cell in nbformat.read(path, as_version=4).cells:
                gid = cell.metadata.get("nbgrader", {}).get("grade_id")
                if gid in texts:
                    texts[gid].add(normalized(cell.source))
    return tuple(ReleasedCell(gid, kinds[gid], roles[gid], frozenset(t for t in texts[gid] if t), defines[gid])
                 for gid in order)


@lru_cache(maxsize=None)
def _owners() -> dict:
    """released grade id -> its notebook, over every notebook of every assignment."""
    return {cell.grade_id: notebook for unit in all_assignments() for notebook in unit.notebooks
            for cell in released(notebook)}


@lru_cache(maxsize=None)
def _by_text() -> dict:
    """normalized text -> [(notebook, grade id)] over every notebook of every assignment."""
    index = {}
    for unit in all_assignments():
        for notebook in unit.notebooks:
            for cell in released(notebook):
                for text in cell.texts:
                    index.setdefault(text, []).append((notebook, cell.grade_id))
    return index


@lru_cache(maxsize=None)
def _languages_by_text() -> dict:
    """normalized text -> the one language whose release has it (texts common to several left out)."""
    seen = {}
    for unit in all_assignments():
        for notebook in unit.notebooks:
            for lang in unit.releases:
                with use(lang):
                    canonical = unit.builders[notebook]()
                for cell in canonical.cells:
                    seen.setdefault(normalized(cell.source), set()).add(lang)
    return {text: langs.pop() for text, langs in seen.items() if text and len(langs) == 1}


def language_by_text(nb) -> str | None:
    """The release language a notebook's text is in, for one that lost the kit's metadata."""
    index, votes = _languages_by_text(), {}
    for cell in nb.cells:
        lang = index.get(normalized(cell.get("source", "")))
        if lang:
            votes[lang] = votes.get(lang, 0) + 1
    return max(votes, key=votes.get) if votes else None


def _grade_id(cell) -> str | None:
    meta = cell.get("metadata", {})
    gid = meta.get("nbgrader", {}).get("grade_id") if isinstance(meta, dict) else None
    return gid if isinstance(gid, str) else None


def _cell_id(cell) -> str | None:
    cid = cell.get("id")
    return cid.replace("-", "_") if isinstance(cid, str) else None


def which_notebook(nb) -> str | None:
    """Which of the kit's notebooks ``nb`` is: by its grade ids, else its cell ids, else its text."""
    names = [name for unit in all_assignments() for name in unit.notebooks]
    owners = _owners()
    for key in (_grade_id, _cell_id):
        for cell in nb.cells:
            if key(cell) in owners:
                return owners[key(cell)]
    votes = {}
    index = _by_text()
    for cell in nb.cells:
        for name in {notebook for notebook, _ in index.get(normalized(cell.get("source", "")), [])}:
            votes[name] = votes.get(name, 0) + 1
    if not votes:
        return None
    best = max(votes.values())
    winners = [name for name in names if votes.get(name) == best]
    return winners[0] if best >= MIN_TEXT_MATCHES and len(winners) == 1 else None


def label(nb, notebook: str) -> Labels:
    """Which released cell each of ``nb``'s cells is, and which cell is each answer."""
    cells = released(notebook)
    position = {c.grade_id: i for i, c in enumerate(cells)}
    by_id = {c.grade_id: c for c in cells}
    of, how = [None] * len(nb.cells), [None] * len(nb.cells)
    for i, cell in enumerate(nb.cells):  # what the notebook says of itself
        gid = _grade_id(cell)
        if gid in position:
            of[i], how[i] = gid, BY_GRADE_ID
        elif _cell_id(cell) in position and not _grade_id(cell):
            of[i], how[i] = _cell_id(cell), BY_CELL_ID
    claimed = set(filter(None, of))
    last = -1
    for i, cell in enumerate(nb.cells):  # the text the release gave it
        if of[i] is not None:
            last = position[of[i]]
            continue
        text = normalized(cell.get("source", ""))
        candidates = [c.grade_id for c in cells if text and text in c.texts]
        if not candidates:
            continue
        free = [g for g in candidates if g not in claimed]
        gid = next((g for g in free if position[g] > last), free[0] if free else candidates[0])
        of[i], how[i] = gid, BY_TEXT
        claimed.add(gid)
        last = position[gid]
    for gid in [c.grade_id for c in cells if c.role in ("answer", "free") and c.grade_id not in claimed]:
        _by_place(nb, gid, cells, position, of, how)
    for cell in cells:
        if cell.role == "answer":
            _copies(nb, cell, position, of, how)
    labels = Labels(of, how)
    for cell in cells:
        if cell.role == "answer":
            _choose(nb, cell, labels)
    return labels


def _gap(of: list, position: dict, gid: str) -> range:
    """Where a released cell belongs in the student's notebook: after the nearest released cell
    before it (wherever that was moved), up to the next released cell that is not itself."""
    at = position[gid]
    before = [(position[g], i) for i, g in enumerate(of) if g is not None and position[g] < at]
    start = max(before)[1] if before else -1
    end = next((i for i in range(start + 1, len(of)) if of[i] is not None and of[i] != gid), len(of))
    return range(start + 1, end)


def _by_place(nb, gid: str, cells: tuple, position: dict, of: list, how: list) -> None:
    """An answer nothing else identifies: the unknown cells of its kind in its gap."""
    kind = "code" if cells[position[gid]].cell_type == "code" else "markdown"
    for i in _gap(of, position, gid):
        if of[i] is None and nb.cells[i].get("cell_type") == kind and normalized(nb.cells[i].get("source", "")):
            of[i], how[i] = gid, BY_PLACE


def _copies(nb, cell: ReleasedCell, position: dict, of: list, how: list) -> None:
    """Code cells the student added in an answer's gap that build what the answer defines (a
    filled-in copy typed below the starter): they claim the answer too."""
    for i in _gap(of, position, cell.grade_id):
        if (of[i] is None and nb.cells[i].get("cell_type") == "code"
                and builds(normalized(nb.cells[i].get("source", "")), cell.defines)):
            of[i], how[i] = cell.grade_id, BY_COPY


def _choose(nb, cell: ReleasedCell, labels: Labels) -> None:
    """Of the cells that claim a code answer, the one graded as the answer: the last that builds
    what the answer defines (run top to bottom, its model is the notebook's), else the last."""
    claiming = [i for i, g in enumerate(labels.of) if g == cell.grade_id]
    code = [i for i in claiming if nb.cells[i].get("cell_type") == "code"]
    if not code:
        if claiming:
            labels.changed_type[cell.grade_id] = nb.cells[claiming[-1]].get("cell_type", "raw")
        return
    building = [i for i in code if builds(normalized(nb.cells[i].get("source", "")), cell.defines)]
    labels.chosen[cell.grade_id] = (building or code)[-1]
    labels.claimants[cell.grade_id] = code

