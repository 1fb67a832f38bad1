"""Helpers shared by scripts/demo and scripts/bench: loading scripts/compare as
a module, geometric means of the ratios over several comparisons, and the
summary table as text, Markdown, CSV and SVG."""

import csv
import importlib.machinery
import importlib.util
import math
import os
import sys

SCRIPTS = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


def load_compare():
    """scripts/compare as a module (the file has no .py suffix)."""
    if 'osmem_compare' in sys.modules:
        return sys.modules['osmem_compare']
    path = os.path.join(SCRIPTS, 'compare')
    loader = importlib.machinery.SourceFileLoader('osmem_compare', path)
    spec = importlib.util.spec_from_loader('osmem_compare', loader)
    mod = importlib.util.module_from_spec(spec)
    sys.modules['osmem_compare'] = mod
    loader.exec_module(mod)
    return mod


def geomean(values):
    """Geometric mean of positive numbers, None for none."""
    vals = [v for v in values if v is not None and v > 0]
    return math.exp(sum(math.log(v) for v in vals) / len(vals)) if vals else None


class GroupSummary:
    """Per allocator: geometric means of the ratios to glibc over some reports.

    Only rows where the allocator was ok count; the others are listed in
    `missing` as (row title, status)."""

    def __init__(self, label, reports):
        self.label = label
        self.nrows = len(reports)
        self.allocs = []
        self.rows = {}
        for rep in reports:
            for s in rep.summaries:
                if s.alloc.name not in self.rows:
                    self.allocs.append(s.alloc.name)
                    self.rows[s.alloc.name] = []
                self.rows[s.alloc.name].append((rep.title, s))

    def stats(self, name):
        """(n ok, wall geomean, cpu geomean, rss geomean, missing list) for one allocator."""
        ok = [s for _, s in self.rows[name] if s.ok]
        missing = [(t, s.status) for t, s in self.rows[name] if not s.ok]
        return (len(ok), geomean(s.wall_ratio for s in ok), geomean(s.cpu_ratio for s in ok),
                geomean(s.rss_ratio for s in ok), missing)


def _f(v):
    return '-' if v is None else '%.2f' % v


def summary_lines(groups, markdown=False):
    """The summary of several GroupSummary objects as table lines."""
    head = ['rows', 'allocator', 'ok rows', 'wall time x glibc', 'user+sys x glibc',
            'peak RSS x glibc', 'not ok']
    body = []
    for g in groups:
        for name in g.allocs:
            n, w, c, r, missing = g.stats(name)
            bad = ', '.join('%s: %s' % (t, st) for t, st in missing)
            body.append([g.label, name, '%d/%d' % (n, g.nrows), _f(w), _f(c), _f(r), bad or '-'])
    if markdown:
        out = ['| ' + ' | '.join(head) + ' |',
               '|' + '|'.join(['---', '---', '---:', '---:', '---:', '---:', '---']) + '|']
        out += ['| ' + ' | '.join(c.replace('|', '\\|') for c in row) + ' |' for row in body]
        return out
    widths = [max(len(r[i]) for r in [head] + body) for i in range(len(head) - 1)]
    fmt_row = lambda r: '  '.join([r[0].ljust(widths[0]), r[1].ljust(widths[1])] +
                                  [c.rjust(w) for c, w in zip(r[2:-1], widths[2:])] + [r[-1]])
    return [fmt_row(head), '  '.join('-' * w for w in widths) + '  ------'] + [fmt_row(r) for r in body]


def per_row_markdown(reports):
    """One Markdown table: a row per comparison, wall and RSS ratio per allocator."""
    names = []
    for rep in reports:
        for s in rep.summaries:
            if s.alloc.name not in names:
                names.append(s.alloc.name)
    out = ['| program | glibc wall s | glibc RSS MiB | ' +
           ' | '.join('%s time / RSS' % n for n in names if n != 'glibc') + ' |',
           '|---|---:|---:|' + '---:|' * (len(names) - 1)]
    for rep in reports:
        g = rep.get('glibc')
        cells = []
        for n in names:
            if n == 'glibc':
                continue
            s = rep.get(n)
            if s is None or s.alloc.skipped:
                cells.append('-')
            elif not s.ok:
                bound = ''
                if s.status.startswith('TIMEOUT') and rep.timeout and g is not None and g.wall:
                    bound = ' (> %.0fx)' % (rep.timeout / g.wall)
                cells.append('**%s**%s' % (s.status, bound))
            else:
                cells.append('%s / %s' % (_f(s.wall_ratio), _f(s.rss_ratio)))
        out.append('| `%s` | %s | %s | %s |' % (rep.title.replace('|', '\\|'),
                                                 '-' if g is None or g.wall is None else '%.2f' % g.wall,
                                                 '-' if g is None or g.rss_mib is None else '%.1f' % g.rss_mib,
                                                 ' | '.join(cells)))
    return out


def write_summary_csv(path, groups):
    """summary.csv: one row per (row group, allocator)."""
    with open(path, 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['group', 'allocator', 'ok_rows', 'rows', 'wall_ratio_geomean',
                    'cpu_ratio_geomean', 'rss_ratio_geomean', 'not_ok'])
        for g in groups:
            for name in g.allocs:
                n, wr, cr, rr, missing = g.stats(name)
                w.writerow([g.label, name, n, g.nrows] +
                           ['' if v is None else '%.4f' % v for v in (wr, cr, rr)] +
                           ['; '.join('%s: %s' % m for m in missing)])


def write_summary_svg(path, group, title, cmp):
    """A chart of one group's geometric means, drawn by compare's write_svg."""
    rows = []
    for name in group.allocs:
        n, w, c, r, missing = group.stats(name)
        rows.append((name, w, c, r, len(missing)))
    draw_summary_svg(path, rows, group.nrows, title, cmp)


def draw_summary_svg(path, rows, nrows, title, cmp):
    """The chart of write_summary_svg from rows (allocator, wall, cpu and RSS
    geometric means, rows not ok) over nrows programs."""
    summaries = [cmp.Summary(cmp.Allocator(name), [], wall_ratio=w, cpu_ratio=c, rss_ratio=r,
                             status='ok' if not bad else '%d row(s) not ok' % bad)
                 for name, w, c, r, bad in rows]
    rep = cmp.Report([], title, os.path.dirname(path), 0, summaries, [])
    cmp.write_svg(rep, path, subtitle='geometric mean over %d programs of the median ratio to '
                                      'glibc malloc; lower is better' % nrows)


def read_summary_csv(path, group):
    """One group of a summary.csv (write_summary_csv's): the rows of
    draw_summary_svg and the number of programs."""
    rows, nrows = [], 0
    num = lambda v: float(v) if v else None
    with open(path, newline='') as f:
        for row in csv.DictReader(f):
            if row['group'] != group:
                continue
            nrows = int(row['rows'])
            rows.append((row['allocator'], num(row['wall_ratio_geomean']), num(row['cpu_ratio_geomean']),
                         num(row['rss_ratio_geomean']), nrows - int(row['ok_rows'])))
    if not rows:
        raise ValueError('%s: no rows of group %r' % (path, group))
    return rows, nrows
