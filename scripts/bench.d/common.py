"""Helpers shared by scripts/demo, scripts/bench, scripts/bench-threads and
scripts/bench-memory: loading scripts/compare as a module, the interleaved
order of runs, geometric means of the ratios over several comparisons, the
summary table as text, Markdown, CSV and SVG, and line charts."""

import csv
import html
import importlib.machinery
import importlib.util
import math
import os
import platform
import sys

SCRIPTS = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
CHART_W, CHART_H = 760, 440      # a line chart's size


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


def interleaved(rounds, cells, allocs):
    """(round, cell, allocators in the order to run them) for each round and
    each cell: every allocator in turn, the order rotated from one cell to the
    next, so that no allocator always runs first or right after another."""
    for i in range(1, rounds + 1):
        for k, cell in enumerate(cells):
            rot = (i + k) % len(allocs)
            yield i, cell, allocs[rot:] + allocs[:rot]


def machine_lines(cmp, allocs):
    """A few facts about the machine and the libraries (allocators: names, or
    None for compare's default list), for a summary."""
    libc = platform.libc_ver()
    lines = ['- machine: %s, %d CPUs, kernel %s, %s %s' % (platform.machine(), os.cpu_count(),
                                                            platform.release(), libc[0], libc[1]),
             '- load average at start: %s' % ' '.join(open('/proc/loadavg').read().split()[:3])]
    for a in cmp.resolve_allocators(allocs or cmp.DEFAULT_ALLOCATORS):
        lines.append('- %s: %s' % (a.name, a.lib or ('(no preload)' if not a.skipped else a.skipped)))
    return lines


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


def line_chart(cmp, title, subtitle, series, xlabel, ylabel, xticks=None, ref=None, xmarks=(), dots=True):
    """An SVG line chart, as a list of lines: one line per series (name ->
    points [(x, y)], y None where missing), coloured as compare colours the
    allocators. xticks [(x, label)] names the x axis' ticks and spans it
    (default: round steps over the points' x); ref draws a dashed level at
    that y, xmarks a dashed vertical per (x, label); dots marks each point."""
    pts_all = [(px, py) for ps in series.values() for px, py in ps if py is not None]
    vals = [py for _, py in pts_all] + ([ref] if ref else [])
    top = max(vals + [1e-9]) * 1.1
    step = cmp.nice_step(top)
    top = -(-top // step) * step
    xs = [tx for tx, _ in xticks] if xticks else [px for px, _ in pts_all] or [0]
    x0, x1 = min(xs), max(xs)
    if xticks is None:
        xstep = cmp.nice_step(x1 - x0) if x1 > x0 else 1
        first = -(-x0 // xstep) * xstep
        xticks = [(first + k * xstep, '%g' % float('%.6g' % (first + k * xstep)))
                  for k in range(int((x1 - first) / xstep + 1e-9) + 1)]
    W, H, left, right, ptop, pbot = CHART_W, CHART_H, 70, 130, 60, 50
    pw, ph = W - left - right, H - ptop - pbot
    x = lambda v: left + (pw * (v - x0) / (x1 - x0) if x1 > x0 else pw / 2)
    y = lambda v: ptop + ph - v / top * ph
    e = html.escape
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
           'font-family="sans-serif" font-size="12">' % (W, H, W, H),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>' % (left, e(title)),
           '<text x="%d" y="42" fill="#555">%s</text>' % (left, e(subtitle))]
    v = 0.0
    while v <= top + 1e-9:
        out.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>' % (left, left + pw, y(v), y(v)))
        out.append('<text x="%d" y="%.1f" text-anchor="end" fill="#555">%g</text>'
                   % (left - 6, y(v) + 4, float('%.6g' % v)))
        v += step
    for tx, label in xticks:
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (x(tx), ptop + ph + 18, e(label)))
    out.append('<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%s</text>'
               % (left + pw / 2, ptop + ph + 38, e(xlabel)))
    out.append('<text transform="translate(16 %.1f) rotate(-90)" text-anchor="middle" fill="#555">%s</text>'
               % (ptop + ph / 2, e(ylabel)))
    if ref:
        out.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#333" stroke-dasharray="5,4"/>'
                   % (left, left + pw, y(ref), y(ref)))
    for mx, label in xmarks:
        out.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#999" stroke-dasharray="3,3"/>'
                   % (x(mx), x(mx), ptop, ptop + ph))
        out.append('<text x="%.1f" y="%d" text-anchor="middle" fill="#555" font-size="10">%s</text>'
                   % (x(mx), ptop - 4, e(label)))
    for si, (name, ps) in enumerate(series.items()):
        color = cmp.color_of(name, si)
        pts = [(x(px), y(py), py) for px, py in ps if py is not None]
        if len(pts) > 1:
            out.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>'
                       % (color, ' '.join('%.1f,%.1f' % p[:2] for p in pts)))
        for px, py, v in pts if dots else ():
            out.append('<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s: %.4g</title></circle>'
                       % (px, py, color, e(name), v))
        ly = ptop + 10 + 20 * si
        out.append('<rect x="%d" y="%d" width="12" height="12" fill="%s"/>' % (left + pw + 16, ly, color))
        out.append('<text x="%d" y="%d">%s</text>' % (left + pw + 34, ly + 10, e(name)))
    out.append('</svg>')
    return out


def svg_grid(charts, columns):
    """Charts made by line_chart side by side, `columns` to a row, as one SVG."""
    W, H = CHART_W, CHART_H
    rows = -(-len(charts) // columns)
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">'
           % (W * columns, H * rows, W * columns, H * rows)]
    for k, lines in enumerate(charts):
        out.append(lines[0].replace('<svg ', '<svg x="%d" y="%d" ' % (W * (k % columns), H * (k // columns)), 1))
        out += lines[1:]
    out.append('</svg>')
    return out


def write_svg(path, lines):
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
