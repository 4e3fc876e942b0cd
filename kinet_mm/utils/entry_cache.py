"""A directory of per-video ``.npz`` entries described by one ``meta.json``.

The common part of kinet_mm's caches (pseudo labels, segment features)::

    CACHE/
        meta.json                 what produced the entries
        <quoted video key>.npz    one compressed entry per video

The key of a video is its path relative to the dataset's ``data_prefix['video']``
(``abseiling/abc.mp4``); the entry's file name is the key percent-encoded with
no safe characters (``abseiling%2Fabc.mp4.npz``), which is injective, so two
videos never share an entry and the directory stays flat.

``meta.json``'s fields except ``info`` are its *identity*; every entry stores
their digest, so an entry written for another ``meta.json`` is detected, and an
extraction resumes into a cache only if it would write the same identity.
Entries are written atomically (:func:`~kinet_mm.utils.io.atomic_write`) and
read without pickles; errors name the video and the file.
"""
import hashlib
import json
import os
import os.path as osp
import zipfile
import zlib
from typing import Dict, Iterator, List, Optional, Sequence, Tuple
from urllib.parse import quote, unquote

import numpy as np

from .io import TMP_PREFIX, atomic_write

META_FILE = 'meta.json'
ENTRY_SUFFIX = '.npz'
#: Field of ``meta.json`` that does not identify the entries' content.
INFO_KEY = 'info'
MISSING = '<missing>'


class CorruptEntryError(ValueError):
    """A cache entry exists but cannot be read back (truncated, corrupt)."""


def entry_file_name(key: str) -> str:
    """File name of the entry of video ``key`` (``a/b.mp4`` -> ``a%2Fb.mp4.npz``).

    Raises:
        ValueError: If ``key`` is empty, absolute or climbs out of the video
            root, which would make two datasets' videos collide.
    """
    norm = key.replace(os.sep, '/')
    if not norm or norm.startswith('/') or '..' in norm.split('/'):
        raise ValueError(
            f'Invalid cache key {key!r}: it must be a video path relative to '
            "the dataset's data_prefix['video'].")
    return quote(norm, safe='') + ENTRY_SUFFIX


def key_from_file_name(name: str) -> str:
    """Inverse of :func:`entry_file_name`."""
    return unquote(name[:-len(ENTRY_SUFFIX)])


def identity(meta: Dict) -> Dict:
    """The part of ``meta`` that determines the entries' content."""
    return {k: v for k, v in meta.items() if k != INFO_KEY}


def meta_digest(meta: Dict) -> str:
    """Short stable digest of ``meta``'s identity; every entry records it."""
    text = json.dumps(identity(meta), sort_keys=True, separators=(',', ':'))
    return hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]


def meta_differences(expected: Dict,
                     actual: Dict,
                     prefix: str = '') -> List[Tuple[str, object, object]]:
    """Fields of ``expected`` whose value differs in ``actual``.

    Only the keys of ``expected`` are compared (recursively), so callers can
    pin as much or as little as they care about.

    Returns:
        list[tuple]: ``(dotted field, expected value, actual value)``; a field
        absent from ``actual`` shows as ``'<missing>'``.
    """
    diffs = []
    for key, want in expected.items():
        name = f'{prefix}{key}'
        if not isinstance(actual, dict) or key not in actual:
            diffs.append((name, want, MISSING))
        elif isinstance(want, dict):
            diffs.extend(meta_differences(want, actual[key], name + '.'))
        elif _plain(want) != _plain(actual[key]):
            diffs.append((name, want, actual[key]))
    return diffs


def _plain(value):
    """Compare tuples and lists alike (JSON turns tuples into lists)."""
    return json.loads(json.dumps(value))


def format_differences(diffs: Sequence[Tuple[str, object, object]], left: str,
                       right: str) -> str:
    """``'field: left 1 vs right 2; ...'``."""
    return '; '.join(f'{name}: {left} {a!r} vs {right} {b!r}' for name, a, b in diffs)


def read_meta(path: str) -> Dict:
    """Load ``meta.json``, naming the file if it is not valid JSON."""
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except json.JSONDecodeError as err:
        raise ValueError(f'{path} is corrupt ({err}); re-extract the cache.') from err


class EntryCache:
    """Reader/writer of a cache directory; subclasses say what an entry holds.

    Subclasses set :attr:`kind`, :attr:`tool`, :attr:`format_version` and
    :attr:`arrays` (the ``.npz`` arrays besides ``meta_digest`` and
    ``format_version``), and write and read entries through
    :meth:`write_arrays` and :meth:`read_arrays`.

    Args:
        root (str): The cache directory; it must hold ``meta.json``.
        expected (dict, optional): Meta fields that must match (compared
            recursively, only the given keys). Defaults to None.

    Raises:
        FileNotFoundError: If ``root`` has no ``meta.json``.
        ValueError: If ``meta.json`` is corrupt, of another format version, or
            disagrees with ``expected``.
    """

    #: What the cache holds, for messages (``'pseudo-label cache'``).
    kind: str = 'cache'
    #: The tool that builds one, for messages.
    tool: str = ''
    format_version: int = 1
    arrays: Tuple[str, ...] = ()

    def __init__(self, root: str, expected: Optional[Dict] = None) -> None:
        self.root = root
        meta_path = osp.join(root, META_FILE)
        if not osp.isfile(meta_path):
            raise FileNotFoundError(
                f'{meta_path} not found: {root!r} is not a {self.kind}. Build '
                f'it with {self.tool} CONFIG --out {root}.')
        self.meta = read_meta(meta_path)
        if self.meta.get('format_version') != self.format_version:
            raise ValueError(
                f'{self.kind.capitalize()} {root!r} has format version '
                f"{self.meta.get('format_version')!r}; this kinet_mm reads "
                f'version {self.format_version}. Re-extract it.')
        self.digest = meta_digest(self.meta)
        if expected:
            self.check(expected, what='the config')

    # -- meta -----------------------------------------------------------------

    def check(self, expected: Dict, what: str = 'expected') -> None:
        """Raise ValueError naming both sides if ``expected`` disagrees."""
        diffs = meta_differences(expected, self.meta)
        if diffs:
            raise ValueError(
                f'{self.kind.capitalize()} {self.root!r} was built differently '
                f'than {what} asks for: '
                f"{format_differences(diffs, what, 'cache')}. Use a cache "
                'extracted the same way, or re-extract.')

    @classmethod
    def create(cls, root: str, meta: Dict) -> 'EntryCache':
        """Open ``root`` for writing entries with ``meta``, creating it if new.

        An existing cache is reused only if its identity equals ``meta``'s, so
        a resumed extraction never mixes two ways of extracting.

        Raises:
            ValueError: If ``root`` holds a cache built differently.
        """
        cls.check_can_create(root, meta)
        os.makedirs(root, exist_ok=True)
        meta_path = osp.join(root, META_FILE)
        if not osp.isfile(meta_path):
            meta = dict(meta, format_version=cls.format_version)
            text = json.dumps(meta, indent=2, sort_keys=True) + '\n'
            atomic_write(meta_path, lambda f: f.write(text.encode('utf-8')))
        return cls(root)

    @classmethod
    def check_can_create(cls, root: str, meta: Dict) -> None:
        """Raise ValueError if ``root`` holds a cache with a different identity."""
        meta_path = osp.join(root, META_FILE)
        if not osp.isfile(meta_path):
            return
        existing = identity(read_meta(meta_path))
        new = identity(dict(meta, format_version=cls.format_version))
        # Both directions: a field only the old cache has differs as well.
        diffs = meta_differences(new, existing) + [
            (name, MISSING, value)
            for name, value, missing in meta_differences(existing, new)
            if missing == MISSING
        ]
        if diffs or meta_digest(new) != meta_digest(existing):
            raise ValueError(
                f'{meta_path} was written by a different extraction: '
                f"{format_differences(diffs, 'this run', 'cache')}. "
                'Write to a new --out directory (or delete the old cache).')

    # -- entries ----------------------------------------------------------------

    def entry_path(self, key: str) -> str:
        """Path of the entry file of video ``key``."""
        return osp.join(self.root, entry_file_name(key))

    def __contains__(self, key: str) -> bool:
        return osp.isfile(self.entry_path(key))

    def keys(self) -> Iterator[str]:
        """Keys of the complete entries in the cache."""
        for name in sorted(os.listdir(self.root)):
            if name.endswith(ENTRY_SUFFIX) and not name.startswith('.'):
                yield key_from_file_name(name)

    def read(self, key: str):
        """The entry of ``key`` (subclasses decode :meth:`read_arrays`)."""
        raise NotImplementedError

    def is_complete(self, key: str) -> bool:
        """Whether video ``key`` has an entry that reads back and matches meta."""
        try:
            self.read(key)
        except (FileNotFoundError, CorruptEntryError):
            return False
        return True

    def write_arrays(self, key: str, arrays: Dict[str, np.ndarray]) -> str:
        """Atomically write the entry of ``key`` with this cache's digest."""
        arrays = dict(
            arrays,
            meta_digest=np.asarray(self.digest),
            format_version=np.asarray(self.format_version, dtype=np.int32))
        path = self.entry_path(key)
        atomic_write(path, lambda f: np.savez_compressed(f, **arrays))
        return path

    def read_arrays(self, key: str) -> Dict[str, np.ndarray]:
        """Every array of the entry of ``key``, validated (:attr:`arrays`
        must be there).

        Decompression checks each member's CRC, so a truncated or bit-flipped
        file is caught here, as is an entry written for another ``meta.json``.

        Raises:
            FileNotFoundError: If the video has no entry (names video, cache).
            CorruptEntryError: If the entry is unusable (names the file).
        """
        path = self.entry_path(key)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'Video {key!r} has no entry in {self.kind} {self.root!r} '
                f'(expected {path}). Run {self.tool} on the dataset that '
                'lists it.')
        names = self.arrays + ('meta_digest', 'format_version')
        try:
            with np.load(path, allow_pickle=False) as npz:
                missing = [name for name in names if name not in npz.files]
                if missing:
                    raise self.corrupt(key, f'arrays {missing} are missing')
                arrays = {name: npz[name] for name in npz.files}
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError,
                KeyError) as err:
            if isinstance(err, CorruptEntryError):
                raise
            raise self.corrupt(key, str(err)) from err
        if str(arrays['meta_digest']) != self.digest:
            raise self.corrupt(
                key, f"it was written for another meta.json (digest "
                f"{str(arrays['meta_digest'])!r}; {META_FILE} has "
                f'{self.digest!r}: another extraction wrote into this cache)')
        return arrays

    def corrupt(self, key: str, why: str) -> CorruptEntryError:
        """The error for an unusable entry of ``key``, naming its file."""
        path = self.entry_path(key)
        return CorruptEntryError(
            f'{self.kind.capitalize()} entry {path} of video {key!r} is '
            f'unusable: {why}. Delete {osp.basename(path)} and re-run '
            f'{self.tool} (finished videos are skipped).')

    def remove_stale_temporaries(self, keys: Sequence[str]) -> int:
        """Delete temporary files an interrupted writer left for ``keys``.

        Only the given videos' temporaries are touched, so ranks that own
        disjoint videos can call this concurrently.

        Returns:
            int: How many files were removed.
        """
        wanted = {entry_file_name(k) for k in keys}
        removed = 0
        for name in os.listdir(self.root):
            # mkstemp names are '<prefix><entry name>.<random, dot-free>'
            if (name.startswith(TMP_PREFIX)
                    and name[len(TMP_PREFIX):].rsplit('.', 1)[0] in wanted):
                os.remove(osp.join(self.root, name))
                removed += 1
        return removed

    def __repr__(self) -> str:
        return f'{type(self).__name__}(root={self.root!r})'
