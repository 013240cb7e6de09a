"""Name what a student did, not only where the first difference is.

A position-by-position comparison is always true and often misses the point: a model with
BatchNormalization *after* each Dense is "missing layer 1" position by position. Here the model
is read the way a teacher reads it: as Dense layers (the skeleton) with the other layers in the
gaps between them, and the common patterns of the lesson's mistakes are recognised in that
shape. Each pattern has a stable id (the class overview groups students by it) and one sentence.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..base.i18n import t
from ..base.spec import Layer, ModelSpec

PLACED_KINDS = ("Dropout", "BatchNormalization")


@dataclass(frozen=True)
class Mistake:
    id: str  # stable, for grouping: "batchnormalization-after-dense", ...
    sentence: str


def title(mistake_id: str) -> str:
    """A short name for a mistake, for the class overview: a named mistake's own title; a
    first-difference id ('missing Dropout(rate=0.3)', 'A instead of B') in words."""
    import re

    from ..base.i18n import has

    if has(f"mistake-title.{mistake_id}"):
        return t(f"mistake-title.{mistake_id}")
    if mistake_id.startswith("raised "):  # the answer cell raised: grouped by the exception's type
        return t("mistake-title.answer-raised", ename=mistake_id[len("raised "):])
    if mistake_id.startswith("missing "):
        return t("mistake-title.missing-layer", layer=mistake_id[len("missing "):])
    if mistake_id.startswith("extra "):
        return t("mistake-title.extra-layer", layer=mistake_id[len("extra "):])
    found = re.fullmatch(r"(.+) instead of (.+)", mistake_id)
    if found:
        return t("mistake-title.instead", found=found.group(1), expected=found.group(2))
    return mistake_id


def _skeleton(layers: list[Layer]) -> tuple[list[Layer], list[list[Layer]]]:
    """The Dense layers, and the layers in each gap: gaps[i] comes just before Dense i
    (gaps[-1] after the last Dense)."""
    denses, gaps = [], [[]]
    for layer in layers:
        if layer.kind == "Dense":
            denses.append(layer)
            gaps.append([])
        else:
            gaps[-1].append(layer)
    return denses, gaps


def _counts(gaps, kind: str) -> list[int]:
    return [sum(layer.kind == kind for layer in gap) for gap in gaps]


def _dense_name(denses: list[Layer], index: int) -> str:
    """'Dense(64)', 'the 2nd Dense(512)' or 'the output Dense(1)': unambiguous in a sentence."""
    layer = denses[index]
    if index == len(denses) - 1:
        return t("dense.output", layer=layer.short)
    same = [i for i, d in enumerate(denses[:-1]) if d.short == layer.short]
    if len(same) == 1:
        return layer.short
    n = same.index(index) + 1
    return t("dense.nth", n=n, ordinal=t(f"ordinal.{n}" if n <= 3 else "ordinal.n", n=n), layer=layer.short)


def _joined(names: list[str]) -> str:
    return names[0] if len(names) == 1 else t("list.comma").join(names[:-1]) + t("list.and") + names[-1]


def _goes_before(expected_gaps, kind: str) -> bool:
    """Does this question put ``kind`` before each Dense (BatchNormalization in the concrete
    model) rather than after it (Dropout; BatchNormalization in the wine model)?"""
    return _counts(expected_gaps, kind)[0] > 0


def _gap_place(denses, index: int, before: bool) -> str:
    if before:
        return t("where.before", layer=_dense_name(denses, index))
    return t("where.after", layer=_dense_name(denses, index - 1))


def _example(expected: list[Layer], kind: str) -> str:
    return next(layer.short for layer in expected if layer.kind == kind)


def _first_block(expected_gaps, expected_denses) -> str:
    """The question's first hidden block as code words: 'Dense(1024, activation='relu'),
    Dropout(rate=0.3), BatchNormalization()' or 'BatchNormalization(), Dense(512, ...)'."""
    if _goes_before(expected_gaps, "BatchNormalization"):
        block = [*expected_gaps[0], expected_denses[0]]
    else:
        block = [expected_denses[0], *expected_gaps[1]]
    return ", ".join(map(str, block))


def _between_dense_and_activation(written: list[Layer], expected_denses, expected_gaps) -> Mistake | None:
    for first, second, third in zip(written, written[1:], written[2:]):
        if (first.kind == "Dense" and first.activation == "linear" and second.kind == "BatchNormalization"
                and third.kind == "Activation" and third.activation != "linear"):
            return Mistake("batchnormalization-between-dense-and-activation", t(
                "mistake.between", activation=third.activation, block=_first_block(expected_gaps, expected_denses)))
    return None


def _shifted(expected_counts, found_counts, before: bool) -> bool:
    """Is every ``kind`` layer one Dense off, on the wrong side of the Dense it belongs to?"""
    n = len(expected_counts) - 1
    if before:  # expected before each Dense, found after it: found[i] == expected[i-1]
        return (found_counts[0] == 0 and all(found_counts[i] == expected_counts[i - 1] for i in range(1, n))
                and found_counts[n] in (0, expected_counts[n - 1]) and any(found_counts))
    return (found_counts[n] == 0 and all(found_counts[i] == expected_counts[i + 1] for i in range(n))
            and any(found_counts))


def _placement(kind: str, expected: list[Layer], e_denses, e_gaps, f_gaps) -> list[Mistake]:
    """Dropout or BatchNormalization on the wrong side of the Dense layers, missing in some
    blocks but not others, or extra (after the output layer)."""
    e_counts, f_counts = _counts(e_gaps, kind), _counts(f_gaps, kind)
    if e_counts == f_counts or not any(e_counts):
        return []
    before = _goes_before(e_gaps, kind)
    slug, name = kind.lower(), _example(expected, kind)
    n = len(e_counts) - 1
    if _shifted(e_counts, f_counts, before):
        if before:
            return [Mistake(f"{slug}-after-dense", t("mistake.after-dense", kind=kind, name=name))]
        return [Mistake(f"{slug}-before-dense", t("mistake.before-dense", kind=kind, name=name))]
    missing = [i for i in range(n + 1) if f_counts[i] < e_counts[i]]
    extra = [i for i in range(n + 1) if f_counts[i] > e_counts[i]]
    if f_counts[n] > e_counts[n] and extra == [n]:  # after the output layer, whatever else is off
        if missing:  # a block lacks it too: most likely the one it was meant for
            return [Mistake(f"{slug}-after-output", t(
                "mistake.after-output.and-missing", kind=kind, output=e_denses[-1].short, name=name,
                places=_joined([_gap_place(e_denses, i, before) for i in missing])))]
        return [Mistake(f"{slug}-after-output", t(
            "mistake.after-output.dropout" if kind == "Dropout" else "mistake.after-output",
            kind=kind, output=e_denses[-1].short))]
    if missing and not extra:
        if not any(f_counts):
            return [Mistake(f"{slug}-missing", t("mistake.missing.before" if before else "mistake.missing.after",
                                                 kind=kind, name=name))]
        right = [i for i in range(n + 1) if e_counts[i] and f_counts[i] == e_counts[i]]
        if right:
            places = _joined([_gap_place(e_denses, i, before) for i in missing])
            done = _joined([_gap_place(e_denses, i, before) for i in right])
            return [Mistake(f"{slug}-missing-in-some-blocks", t("mistake.some-blocks", name=name, done=done,
                                                                 places=places))]
    def place(i: int) -> str:  # the gap after the output layer has no Dense after it
        return _gap_place(e_denses, i, before) if i < n else t("where.after", layer=_dense_name(e_denses, n - 1))

    if extra and not missing:
        return [Mistake(f"{slug}-extra", t("mistake.extra", kind=kind, places=_joined([place(i) for i in extra])))]
    if extra and missing:  # in some wrong blocks and missing from others
        return [Mistake(f"{slug}-misplaced", t("mistake.misplaced", kind=kind, name=name,
                                               extra=_joined([place(i) for i in extra]),
                                               missing=_joined([place(i) for i in missing])))]
    return []


def _order_in_block(e_denses, e_gaps, f_gaps) -> Mistake | None:
    """The same layers in each gap, but in another order (BatchNormalization before Dropout)."""
    wrong = [i for i, (e, f) in enumerate(zip(e_gaps, f_gaps))
             if e != f and sorted(map(str, e)) == sorted(map(str, f))]
    if not wrong or any(sorted(map(str, e)) != sorted(map(str, f)) for e, f in zip(e_gaps, f_gaps)):
        return None
    order = t("list.then").join(layer.short for layer in e_gaps[wrong[0]])
    places = _joined([_gap_place(e_denses, i, False) if i else t("where.before", layer=_dense_name(e_denses, 0))
                      for i in wrong])
    return Mistake("order-within-block", t("mistake.order", places=places, order=order))


def name_mistakes(spec: ModelSpec, written: list[Layer], found: list[Layer]) -> list[Mistake]:
    """The recognised mistakes, most telling first (empty when none applies).

    ``written`` is the model as written (activation layers on their own), ``found`` the same
    with activation layers folded into the Dense before them.
    """
    expected = list(spec.layers)
    e_denses, e_gaps = _skeleton(expected)
    f_denses, f_gaps = _skeleton(found)
    if any(layer.lookalike_of for layer in found):
        return []  # a look-alike layer (GaussianDropout ...): its own message says it all
    between = _between_dense_and_activation(written, e_denses, e_gaps)
    if between:
        return [between]
    if [d.units for d in e_denses] != [d.units for d in f_denses]:
        return []  # another skeleton: position by position says it best
    order = _order_in_block(e_denses, e_gaps, f_gaps)
    if order:
        return [order]
    mistakes = []
    for kind in PLACED_KINDS:
        mistakes.extend(_placement(kind, expected, e_denses, e_gaps, f_gaps))
    return mistakes or _rates(expected, found)


def _rates(expected: list[Layer], found: list[Layer]) -> list[Mistake]:
    """Dropout in every right place, with another rate."""
    e_rates = [layer.rate for layer in expected if layer.kind == "Dropout"]
    f_rates = [layer.rate for layer in found if layer.kind == "Dropout"]
    if len(e_rates) != len(f_rates) or not e_rates or all(abs(e - f) < 1e-9 for e, f in zip(e_rates, f_rates)):
        return []
    wrong = sorted({f"{f:g}" for e, f in zip(e_rates, f_rates) if abs(e - f) >= 1e-9})
    return [Mistake("dropout-rate", t("mistake.rate", rates=_joined(wrong), expected=f"{e_rates[0]:g}"))]
