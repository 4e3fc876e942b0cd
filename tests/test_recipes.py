"""The paper and ablation configs against docs/recipes.md.

The tables are read from the markdown, so the page and this test cannot drift
apart: a changed learning rate, milestone, weight decay, momentum, segment
count, crop, window size, loss weight, CBI position, AKG relation, UCF-101
fine-tuning value or early-recognition setting fails here until the page says
the same (with its source).
"""
import ast
import glob
import re
from pathlib import Path

import pytest
from mmengine.config import Config

REPO = Path(__file__).resolve().parents[1]
RECIPES = REPO / 'docs' / 'recipes.md'
SOURCES = ('paper', 'MMAction2', 'ours')
#: Every config that stands for a paper result or ablation (the realclips CPU
#: configs are pipeline checks); each must be in a group of the page.
PAPER_CONFIGS = ('configs/kinet/*kinetics400*.py', 'configs/kinet/ablations/*.py',
                 'configs/tsn/*kinetics400*.py', 'configs/kinet/ucf101/*pretrained*.py',
                 'configs/tsn/ucf101/*pretrained*.py', 'configs/i3d/*kinetics400*.py',
                 'configs/early_recognition/ucf101/*.py')


def table(markdown: str, heading: str):
    """The rows of the first table under ``## heading``, cells stripped."""
    section = markdown.split(f'\n## {heading}\n', 1)[1].split('\n## ', 1)[0]
    rows = [line for line in section.splitlines() if line.startswith('|')]
    cells = [[c.strip() for c in row.strip('|').split('|')] for row in rows]
    return [c for c in cells[2:]]  # past the header and its rule


def backticked(cell: str):
    return re.findall(r'`([^`]+)`', cell)


MARKDOWN = RECIPES.read_text()
GROUPS = {
    name:
    sorted(
        {p
         for pattern in backticked(configs)
         for p in glob.glob(str(REPO / pattern))})
    for name, configs in table(MARKDOWN, 'Groups')
}
VALUES = table(MARKDOWN, 'Values')
ABSENT = object()


def resolve(cfg, key: str):
    """``a.b``, ``list[Type]`` (first item of that type), ``list[0]``;
    ``<split>_pipeline`` is the dataloader's. :data:`ABSENT` if missing."""
    node = cfg
    for part in key.split('.'):
        name, select = re.fullmatch(r'(\w+)(?:\[(\w+)\])?', part).groups()
        if node is cfg and name.endswith('_pipeline'):
            node = cfg[name[:-len('_pipeline')] + '_dataloader'].dataset.pipeline
        elif isinstance(node, (dict, Config)) and name in node:
            node = node[name]
        else:
            return ABSENT
        if select is not None:
            if select.isdigit():
                node = node[int(select)]
            else:
                node = next((t for t in node if t.get('type') == select), ABSENT)
                if node is ABSENT:
                    return ABSENT
    return node


def plain(value):
    """Config values as plain Python, tuples as lists, for comparison."""
    if hasattr(value, 'to_dict'):
        value = value.to_dict()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def test_the_page_is_complete():
    assert VALUES and all(len(row) == 4 for row in VALUES)
    for name, paths in GROUPS.items():
        assert paths, f'group {name} matches no config'
    grouped = {p for paths in GROUPS.values() for p in paths}
    for pattern in PAPER_CONFIGS:
        for path in glob.glob(str(REPO / pattern)):
            assert path in grouped, f'{path} is in no group of {RECIPES}'
    for group, key, value, source in VALUES:
        assert group in GROUPS, f'unknown group {group!r}'
        assert source.startswith(SOURCES), (
            f'{group} {key}: the source must start with one of {SOURCES}')
        assert len(backticked(key)) == len(backticked(value)) == 1, (group, key)


CONFIG_CACHE = {}


def load(path: str):
    if path not in CONFIG_CACHE:
        CONFIG_CACHE[path] = Config.fromfile(path)
    return CONFIG_CACHE[path]


@pytest.mark.parametrize(
    'group,key,value,source',
    VALUES,
    ids=[f'{g}:{backticked(k)[0]}' for g, k, _, _ in VALUES])
def test_config_value_matches_the_page(group, key, value, source):
    key, value = backticked(key)[0], backticked(value)[0]
    expected = ABSENT if value == 'absent' else ast.literal_eval(value)
    for path in GROUPS[group]:
        actual = resolve(load(path), key)
        where = f'{Path(path).relative_to(REPO)}: {key}'
        if expected is ABSENT:
            assert actual is ABSENT or actual is None, (
                f'{where} is {actual!r}; docs/recipes.md says absent')
        else:
            assert actual is not ABSENT, f'{where} is missing'
            assert plain(actual) == plain(expected), (
                f'{where} is {actual!r}; docs/recipes.md says {value} '
                f'({source})')
