#!/usr/bin/env python3
"""Loader parity: `bpf-lsp verify` against `bpftool prog loadall`.

For every BPF object given (files or directories of *.o), load it with
bpftool into a fresh bpffs directory (removed again) and with
`bpf-lsp verify --format json`, and compare:

  - bpftool loads the object   -> every program must be accepted (programs
    in "?" sections, which libbpf does not load by default, are left out;
    bpftool then fails to pin them, after a successful load);
  - libbpf fails at program X  -> X must be rejected when the kernel gave a
    verifier verdict (EINVAL, EACCES, E2BIG) and an error otherwise;
  - libbpf fails before loading any program -> no program may be rejected
    (the kernel never saw one); whether bpf-lsp's loader prepares more than
    this libbpf can is listed, not counted as a mismatch.

Prints a summary and every mismatch; --json FILE writes all rows.
Usage: scripts/loader-parity.py [--bpf-lsp PATH] [--json FILE] OBJ|DIR...
Needs root (or CAP_BPF + CAP_PERFMON), bpftool and a bpffs at /sys/fs/bpf.
"""
import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter

FAILED_PROG = re.compile(r"libbpf: prog '([^']+)': BPF program load failed: (.*)")
VERDICT_ERRNOS = ("Invalid argument", "Permission denied", "Argument list too long")


def objects(paths):
    for p in paths:
        if os.path.isdir(p):
            yield from sorted(glob.glob(os.path.join(p, "**", "*.o"), recursive=True))
        else:
            yield p


def bpftool_load(obj):
    pin = "/sys/fs/bpf/bpf-lsp-parity-%d" % os.getpid()
    try:
        r = subprocess.run(["bpftool", "prog", "loadall", obj, pin], capture_output=True, text=True, timeout=300)
        out = r.stdout + r.stderr
        # Pinning comes after a successful load; it fails for "?" programs.
        return r.returncode == 0 or "failed to pin all programs" in out, out
    except subprocess.TimeoutExpired:
        return False, "timeout"
    finally:
        shutil.rmtree(pin, ignore_errors=True)


def verify(bpf_lsp, obj):
    r = subprocess.run([bpf_lsp, "verify", "--format", "json", obj], capture_output=True, text=True, timeout=600)
    if r.returncode not in (0, 1):
        return None, r.stderr.strip()
    return json.loads(r.stdout), ""


def last_libbpf_error(out):
    """The last libbpf line that says why, not that, the load failed."""
    lines = [l for l in out.splitlines() if l.startswith("libbpf: ") and "failed to load object" not in l
             and "supported section(type) names" not in l]
    return lines[-1] if lines else " ".join(out.strip().splitlines()[:1])


STATS = re.compile(r"^(processed \d+ insns|verification time|stack depth|func#\d+ @\d+|$)")


def has_verifier_message(out, prog):
    """Whether libbpf printed a verifier log with more than statistics."""
    m = re.search(r"prog '%s': -- BEGIN PROG LOAD LOG --\n(.*?)-- END PROG LOAD LOG --" % re.escape(prog), out, re.S)
    return bool(m) and any(not STATS.match(l) for l in m.group(1).splitlines())


def compare(obj, loaded, out, results):
    """Returns (category, detail); category starts with 'match' or 'MISMATCH'."""
    any_error = any(r["verdict"] == "error" for r in results)
    results = [r for r in results if not r.get("section", "").startswith("?")]
    if not results and not loaded:
        return "no program libbpf loads by default", last_libbpf_error(out)
    by_prog = {r["program"]: r for r in results}
    if loaded:
        bad = [r for r in results if r["verdict"] != "accept"]
        if bad:
            return "MISMATCH bpftool loads", "; ".join("%s: %s: %s" % (r["program"], r["verdict"], r.get("message", "")[:160]) for r in bad)
        return "match: loaded", ""
    m = FAILED_PROG.search(out)
    if m:
        prog, errno = m.group(1), m.group(2)
        want = "reject" if errno.startswith(VERDICT_ERRNOS) and has_verifier_message(out, prog) else "error"
        r = by_prog.get(prog)
        if r is None and want == "error" and [x["program"] for x in results] == [""]:
            return "match: both fail before a verdict", "bpftool at %s (%s); verify: %s" % (prog, errno, results[0].get("message", "")[:160])
        if r is None:
            return "MISMATCH no result", "bpftool failed at %s (%s)" % (prog, errno)
        if r["verdict"] != want:
            return "MISMATCH at failing program", "%s: bpftool %s, verify %s: %s" % (prog, errno, r["verdict"], r.get("message", "")[:160])
        return "match: %s at %s" % (want, "program"), ""
    rejected = [r for r in results if r["verdict"] == "reject"]
    why = last_libbpf_error(out)
    if "failed to open object file" in out or "supported section(type) names are" in out:
        # This libbpf cannot even read the object (newer section names or
        # ELF features): nothing to compare with.
        return "libbpf cannot open the object", why
    if rejected and any_error:
        # libbpf fails the whole object on one program's extern or map
        # (even a "?" program's); verify fails that program and judges the
        # others one by one.
        return "libbpf fails the object, verify judges each program", why
    if rejected:
        return "MISMATCH blamed the kernel", "libbpf never loaded a program (%s); verify rejects %s" % (why, ", ".join(r["program"] for r in rejected))
    if all(r["verdict"] == "accept" for r in results):
        return "libbpf cannot prepare, verify loads", why
    return "match: both fail before loading", why


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bpf-lsp", default="bpf-lsp")
    ap.add_argument("--json")
    ap.add_argument("paths", nargs="+")
    args = ap.parse_args()
    rows = []
    counts = Counter()
    for obj in objects(args.paths):
        loaded, out = bpftool_load(obj)
        results, err = verify(args.bpf_lsp, obj)
        if results is None:
            cat, detail = "MISMATCH verify failed", err
        else:
            cat, detail = compare(obj, loaded, out, results)
        counts[cat] += 1
        rows.append({"object": obj, "bpftool_loaded": loaded, "category": cat, "detail": detail,
                     "programs": [{k: r.get(k) for k in ("program", "section", "verdict", "message")} for r in results or []]})
        if not cat.startswith("match"):
            print("%s: %s: %s" % (os.path.basename(obj), cat, detail), flush=True)
    print()
    loadable = sum(1 for r in rows if r["bpftool_loaded"])
    agree_loadable = sum(1 for r in rows if r["bpftool_loaded"] and r["category"] == "match: loaded")
    print("objects: %d; bpftool loads %d, verify agrees on %d of them" % (len(rows), loadable, agree_loadable))
    for cat, n in sorted(counts.items()):
        print("  %-45s %d" % (cat, n))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 1 if any(c.startswith("MISMATCH") for c in counts) else 0


if __name__ == "__main__":
    sys.exit(main())
