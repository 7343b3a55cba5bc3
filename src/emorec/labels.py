"""The seven FER2013 emotion classes, their ``fer2013.csv`` codes and name aliases.

FER2013 numbers its classes ``0=angry, 1=disgust, 2=fear, 3=happy, 4=sad, 5=surprise,
6=neutral``: this is the order of :data:`LABELS` and of the default models' outputs. It is *not*
the alphabetical order of the Kaggle image folders, so map folder names through
:func:`canonical_label`, never by position.

Custom label sets are allowed everywhere: they are plain sequences of names.

Examples
--------
>>> from emorec.labels import LABELS, label_to_code, code_to_label, canonical_label
>>> LABELS[3]
'happy'
>>> label_to_code("sad"), code_to_label(6)
(4, 'neutral')
>>> canonical_label("Happiness"), canonical_label("anger"), canonical_label("contempt")
('happy', 'angry', None)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = [
    "ALIASES",
    "FERPLUS_LABELS",
    "LABELS",
    "canonical_label",
    "code_to_label",
    "is_fer_label_set",
    "label_to_code",
    "map_label_names",
]

#: The seven FER2013 classes in ``fer2013.csv`` code order.
LABELS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

#: FER+'s eight emotions (Barsoum et al. 2016): the seven FER2013 classes in their order, then
#: ``contempt`` (:meth:`emorec.EmotionDataset.from_csv` with ``ferplus=..., contempt=True``).
FERPLUS_LABELS: tuple[str, ...] = (*LABELS, "contempt")

#: Other names real datasets use for the FER2013 classes (lower case, ``-``/`` `` as ``_``).
#: ``contempt`` (CK+, AffectNet) is deliberately absent: it is not one of the FER2013 classes.
ALIASES: dict[str, str] = {
    "anger": "angry",
    "angry": "angry",
    "mad": "angry",
    "disgust": "disgust",
    "disgusted": "disgust",
    "disgusting": "disgust",
    "fear": "fear",
    "fearful": "fear",
    "afraid": "fear",
    "scared": "fear",
    "happy": "happy",
    "happiness": "happy",
    "joy": "happy",
    "smile": "happy",
    "sad": "sad",
    "sadness": "sad",
    "unhappy": "sad",
    "surprise": "surprise",
    "surprised": "surprise",
    "neutral": "neutral",
    "neutrality": "neutral",
    "calm": "neutral",
}


def _normalise(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def canonical_label(name: str) -> str | None:
    """Return the FER2013 class a dataset's class name means, or ``None`` if it is not one.

    Parameters
    ----------
    name : str
        A class name as a dataset spells it (``"Happiness"``, ``"surprised"``, ``"anger"``...).

    Returns
    -------
    str or None
        One of :data:`LABELS`, or ``None`` when the name is not a FER2013 class.

    Examples
    --------
    >>> canonical_label("Surprised")
    'surprise'
    >>> canonical_label("contempt") is None
    True
    """
    return ALIASES.get(_normalise(name))


def label_to_code(name: str) -> int:
    """Return the ``fer2013.csv`` code (0-6) of a FER2013 class name or alias.

    Raises
    ------
    ValueError
        If ``name`` is not a FER2013 class or one of its aliases.

    Examples
    --------
    >>> label_to_code("Happiness")
    3
    """
    label = canonical_label(name)
    if label is None:
        raise ValueError(
            f"{name!r} is not a FER2013 emotion; expected one of {', '.join(LABELS)} "
            "(or an alias such as 'anger' or 'sadness')"
        )
    return LABELS.index(label)


def code_to_label(code: int) -> str:
    """Return the FER2013 class name for a ``fer2013.csv`` code.

    Raises
    ------
    ValueError
        If ``code`` is not an integer from 0 to 6.

    Examples
    --------
    >>> code_to_label(0)
    'angry'
    """
    if isinstance(code, bool) or not isinstance(code, int) or not 0 <= code < len(LABELS):
        raise ValueError(f"FER2013 emotion code {code!r} is out of range; expected 0..6")
    return LABELS[code]


def is_fer_label_set(names: Iterable[str]) -> bool:
    """Return True when every name is a FER2013 class (or alias) and none repeats one.

    Examples
    --------
    >>> is_fer_label_set(["happy", "Sadness"]), is_fer_label_set(["happy", "contempt"])
    (True, False)
    """
    mapped = [canonical_label(n) for n in names]
    return all(m is not None for m in mapped) and len(set(mapped)) == len(mapped)


def map_label_names(names: Sequence[str]) -> tuple[tuple[str, ...], dict[str, int]]:
    """Decide the label set for a collection of class names and map each name to an index.

    When every name is a FER2013 class (through :data:`ALIASES`), the label set is the FER2013
    classes present, in ``fer2013.csv`` code order; otherwise it is the names as given, sorted.

    Parameters
    ----------
    names : sequence of str
        Class names as found in the data (for example folder names).

    Returns
    -------
    label_names : tuple of str
        The label set, in output order.
    index : dict
        Maps each given name to its index in ``label_names``.

    Raises
    ------
    ValueError
        If two names mean the same FER2013 class (``happy`` and ``happiness``), or a custom name
        repeats.

    Examples
    --------
    >>> map_label_names(["sad", "Happy", "surprised"])
    (('happy', 'sad', 'surprise'), {'sad': 1, 'Happy': 0, 'surprised': 2})
    >>> map_label_names(["cat", "dog"])[0]
    ('cat', 'dog')
    """
    names = list(names)
    if len(set(names)) != len(names):
        raise ValueError(f"class names repeat: {sorted(names)}")
    mapped = {n: canonical_label(n) for n in names}
    if names and all(m is not None for m in mapped.values()):
        seen: dict[str, str] = {}
        for name, label in mapped.items():
            assert label is not None
            if label in seen:
                raise ValueError(
                    f"class folders {seen[label]!r} and {name!r} both mean the FER2013 class "
                    f"{label!r}; merge them or rename one"
                )
            seen[label] = name
        label_names = tuple(label for label in LABELS if label in seen)
        return label_names, {n: label_names.index(m) for n, m in mapped.items() if m is not None}
    label_names = tuple(sorted(names))
    return label_names, {n: label_names.index(n) for n in names}
