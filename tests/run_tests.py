#!/usr/bin/env python3
"""Syscall-trace tests for the osmem core (SPEC.md part 1).

For each tests/trace/NAME.c: compile it against ./libosmem.so, run it under
strace, turn the strace output into a normalised trace tests/out/NAME.out and
diff it against the hand-written tests/ref/NAME.ref.

The test programs (see tests/trace/trace.h) write marker lines with write(2):
    @call os_malloc(10)      before a call (the C text of the call)
    @ret 0x55d0c0a01020      after it (@ret 0x0 for NULL, @ret void for os_free)
    @note text               extra checks made by the program (zeroed, data kept...)

Normalised trace, per call:
    os_malloc(10)            the call line
      brk(0) = +0x0          syscalls inside the call; heap addresses are offsets
      brk(+0x20000) = +0x20000   from HeapStart (the first brk(NULL) of the process)
      mmap(131104) = M1      M1, M2... label mappings in order of appearance
      munmap(M1, 131104)
      => +0x20               the result: +0x.. (heap), M1+0x20 (mapping), NULL, void
      # zeroed               @note lines
A brk/mmap/munmap after the first @call that is not inside a call prints as
"  !! stray: ...". Syscalls before the first @call are ignored (loader, libc
start-up), except a brk that moves the break, which would shift every offset.

Beyond the brief's brk,mmap,munmap,write we also trace mremap, madvise and
mprotect: SPEC rule 5 forbids the first two, and any of them inside a call
shows up in the diff. They are ignored before the first @call like the rest.

Usage: python3 tests/run_tests.py [NAME...]   (run from anywhere; uses the repo root)
"""

import concurrent.futures
import difflib
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRACE_DIR = os.path.join(ROOT, "tests", "trace")
REF_DIR = os.path.join(ROOT, "tests", "ref")
OUT_DIR = os.path.join(ROOT, "tests", "out")

TRACED = "brk,mmap,munmap,write,mremap,madvise,mprotect"
HEAP_SPAN = 64 << 30          # [HeapStart, HeapStart + 64 GiB) counts as heap
RUN_TIMEOUT = 20

STD_PROT = "PROT_READ|PROT_WRITE"
STD_FLAGS = "MAP_PRIVATE|MAP_ANONYMOUS"

# name(args) = result   (strace pads before '=', the result may carry "ENOMEM (...)")
SYSCALL_RE = re.compile(r"^(?P<name>[a-z_0-9]+)\((?P<args>.*)\)\s+=\s+(?P<res>.*?)\s*$")
WRITE_RE = re.compile(
    r'^write\((?P<fd>\d+),\s*"(?P<data>(?:[^"\\]|\\.)*)"(?P<trunc>\.\.\.)?,\s*(?P<len>\d+)\)\s+=\s+(?P<res>.*?)\s*$')
UNFINISHED_RE = re.compile(r"<unfinished \.\.\.>|<\.\.\. \w+ resumed>")

ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "v": "\v", "f": "\f", "a": "\a",
           "b": "\b", "\\": "\\", '"': '"', "'": "'", "?": "?"}


def unescape(s):
    """Undo strace's C-style string escaping (\\n, \\", \\ooo, \\xHH)."""
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c != "\\" or i + 1 >= len(s):
            out += c.encode("utf-8", "surrogateescape")
            i += 1
            continue
        n = s[i + 1]
        if n in ESCAPES:
            out += ESCAPES[n].encode()
            i += 2
        elif n == "x":
            m = re.match(r"[0-9a-fA-F]{1,2}", s[i + 2:])
            out.append(int(m.group(0), 16) if m else ord("x"))
            i += 2 + (len(m.group(0)) if m else 0)
        elif n in "01234567":
            m = re.match(r"[0-7]{1,3}", s[i + 1:])
            out.append(int(m.group(0), 8) & 0xFF)
            i += 1 + len(m.group(0))
        else:
            out += n.encode()
            i += 2
    return out.decode("utf-8", "replace")


def split_args(args):
    """Split a strace argument list on top-level commas."""
    parts, depth, cur, in_str, esc = [], 0, "", False, False
    for ch in args:
        if in_str:
            cur += ch
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
            continue
        if ch == '"':
            in_str = True
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
            continue
        cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return parts


def parse_int(tok):
    tok = tok.strip()
    if tok == "NULL":
        return 0
    try:
        return int(tok, 0)
    except ValueError:
        return None


class Normaliser:
    def __init__(self, heap_start):
        self.heap_start = heap_start
        self.maps = []          # [label, addr, length, live]
        self.nmaps = 0

    def addr(self, a):
        """Render an address: +0x.. in the heap, Mk+0x.. in a known mapping, else raw."""
        if a is None:
            return "?"
        if a == 0:
            return "NULL"
        if self.heap_start is not None and self.heap_start <= a < self.heap_start + HEAP_SPAN:
            return "+0x%x" % (a - self.heap_start)
        for label, base, length, live in reversed(self.maps):
            if live and base <= a < base + max(length, 1):
                return label if a == base else "%s+0x%x" % (label, a - base)
        return "0x%x" % a

    def brk_value(self, tok):
        v = parse_int(tok)
        if v is None:
            return tok
        if self.heap_start is not None:
            off = v - self.heap_start
            if 0 <= off < HEAP_SPAN:
                return "+0x%x" % off
            if -HEAP_SPAN < off < 0:
                return "-0x%x" % -off
        return "0x%x" % v

    def syscall(self, name, args, res):
        """One traced syscall (not write) rendered for the normalised trace."""
        a = split_args(args)
        res_first = res.split()[0] if res else res
        failed = res_first == "-1"
        res_txt = " ".join(res.split()[:2]) if failed else res
        if name == "brk":
            arg = "0" if a and a[0] == "NULL" else self.brk_value(a[0] if a else "")
            return "brk(%s) = %s" % (arg, res_txt if failed else self.brk_value(res_first))
        if name == "mmap":
            ok_form = (len(a) == 6 and a[0] == "NULL" and a[2] == STD_PROT and a[3] == STD_FLAGS
                       and a[4] == "-1" and a[5] == "0")
            if failed:
                result = res_txt
            else:
                self.nmaps += 1
                label = "M%d" % self.nmaps
                base = parse_int(res_first)
                length = parse_int(a[1]) if len(a) > 1 else 0
                self.maps.append([label, base, length or 0, True])
                result = label
            if ok_form:
                return "mmap(%s) = %s" % (a[1], result)
            shown = [self.addr(parse_int(a[0])) if a and a[0] != "NULL" else "NULL"] + a[1:]
            return "mmap(%s) = %s" % (", ".join(shown), result)
        if name == "munmap":
            base = parse_int(a[0]) if a else None
            txt = "munmap(%s, %s)" % (self.addr(base), a[1] if len(a) > 1 else "?")
            if failed or res_first != "0":
                txt += " = " + res_txt
            else:
                for m in reversed(self.maps):
                    if m[3] and m[1] == base:
                        m[3] = False
                        break
            return txt
        # mremap, madvise, mprotect: forbidden inside calls; show them in full
        shown = []
        for i, tok in enumerate(a):
            v = parse_int(tok) if i == 0 else None
            shown.append(self.addr(v) if v else tok)
        return "%s(%s) = %s" % (name, ", ".join(shown), res_txt if failed else res_first)

    def ret(self, txt):
        txt = txt.strip()
        if txt == "void":
            return "void"
        v = parse_int(txt)
        if v is None:
            return txt
        return self.addr(v)


def normalise(strace_text):
    """Turn strace output into the normalised trace (a list of lines)."""
    lines = strace_text.splitlines()
    heap_start = None
    for ln in lines:
        m = SYSCALL_RE.match(ln)
        if m and m.group("name") == "brk" and m.group("args").strip() == "NULL":
            heap_start = parse_int(m.group("res").split()[0])
            break
    norm = Normaliser(heap_start)
    out = []
    started = False          # seen the first @call
    in_call = False
    pending = ""             # bytes of fd 1 not yet ended by a newline
    if heap_start is None:
        out.append("!! no brk(NULL) in the trace: HeapStart unknown")

    def marker(text):
        nonlocal started, in_call
        if text.startswith("@call "):
            if in_call:
                out.append("  !! no @ret")
            started = True
            in_call = True
            out.append(text[len("@call "):])
        elif text.startswith("@ret "):
            if not in_call:
                out.append("  !! @ret outside a call")
            in_call = False
            out.append("  => " + norm.ret(text[len("@ret "):]))
        elif text.startswith("@note "):
            out.append("  # " + text[len("@note "):])
        elif text.strip():
            out.append("  !! output: " + text)

    for ln in lines:
        if UNFINISHED_RE.search(ln):
            ln = UNFINISHED_RE.sub("", ln)
        if ln.startswith("+++") or ln.startswith("---"):
            if "exited with 0 " not in ln:
                out.append("!! " + ln.strip())
            continue
        w = WRITE_RE.match(ln)
        if w:
            data = unescape(w.group("data"))
            if w.group("fd") == "1":
                pending += data
                while "\n" in pending:
                    one, pending = pending.split("\n", 1)
                    marker(one)
            elif started:
                for one in data.splitlines():
                    out.append("  !! fd %s: %s" % (w.group("fd"), one))
            continue
        m = SYSCALL_RE.match(ln)
        if not m:
            continue
        name = m.group("name")
        if name == "write":
            continue
        if not started:
            # ignore the loader and libc start-up, but a brk that moves the
            # break before the first call shifts every heap offset: flag it
            if name == "brk" and m.group("args").strip() != "NULL":
                out.append("!! brk before the first call: " + ln.strip())
            continue
        txt = norm.syscall(name, m.group("args"), m.group("res"))
        out.append(("  " if in_call else "  !! stray: ") + txt)
    if pending.strip():
        marker(pending)
    if in_call:
        out.append("  !! no @ret")
    return out


def run_one(name):
    """Compile, trace, normalise and diff one test. Returns (ok, report text)."""
    src = os.path.join(TRACE_DIR, name + ".c")
    exe = os.path.join(OUT_DIR, name)
    st = exe + ".strace"
    outp = exe + ".out"
    ref = os.path.join(REF_DIR, name + ".ref")
    cc = ["cc", "-std=gnu11", "-O0", "-g", "-Iinclude", "-o", exe, src,
          "-L.", "-losmem", "-Wl,-rpath," + ROOT]
    p = subprocess.run(cc, cwd=ROOT, capture_output=True, text=True)
    if p.returncode != 0:
        return False, "compile error:\n" + p.stdout + p.stderr
    try:
        with open(os.devnull, "wb") as devnull:
            p = subprocess.run(["strace", "-o", st, "-e", "trace=" + TRACED, "-s", "256", exe],
                               cwd=ROOT, stdout=devnull, stderr=subprocess.PIPE,
                               timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return False, "timed out after %d s" % RUN_TIMEOUT
    stderr = p.stderr.decode("utf-8", "replace")
    try:
        with open(st, encoding="utf-8", errors="replace") as f:
            lines = normalise(f.read())
    except OSError as e:
        return False, "no strace output: %s\n%s" % (e, stderr)
    if p.returncode != 0:
        lines.append("!! exit status %d" % p.returncode)
    with open(outp, "w") as f:
        f.write("\n".join(lines) + "\n")
    if not os.path.exists(ref):
        return False, "missing reference %s (output in %s)" % (os.path.relpath(ref, ROOT),
                                                                os.path.relpath(outp, ROOT))
    with open(ref) as f:
        want = [ln.rstrip("\n") for ln in f]
    ok = want == lines and p.returncode == 0
    if ok:
        return True, ""
    diff = difflib.unified_diff(want, lines, "tests/ref/%s.ref" % name,
                                "tests/out/%s.out" % name, lineterm="")
    text = "\n".join(diff)
    if p.returncode != 0:
        text += "\nprogram exited with status %d" % p.returncode
    if stderr.strip():
        text += "\nstderr:\n" + "\n".join(stderr.splitlines()[:20])
    return False, text


def main(argv):
    if shutil.which("strace") is None:
        print("strace is missing: install it (apt-get install strace) to run the trace tests")
        return 1
    if not os.path.exists(os.path.join(ROOT, "libosmem.so")):
        print("./libosmem.so is missing: run make first")
        return 1
    names = sorted(f[:-2] for f in os.listdir(TRACE_DIR) if f.endswith(".c"))
    if argv:
        wanted = [a[:-2] if a.endswith(".c") else os.path.basename(a) for a in argv]
        unknown = [a for a in wanted if a not in names]
        if unknown:
            print("no such test: " + " ".join(unknown))
            return 1
        names = wanted
    os.makedirs(OUT_DIR, exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as ex:
        results = list(ex.map(run_one, names))
    passed = failed = 0
    for name, (ok, text) in zip(names, results):
        if ok:
            passed += 1
            print("PASS " + name)
        else:
            failed += 1
            print("FAIL " + name)
            if text:
                print(text)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
