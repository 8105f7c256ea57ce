#!/usr/bin/env python3
"""bench-check: `bpf-lsp check` over the kernel's BPF selftests in one
process, beside clang-19 -fsyntax-only on the same files with the same
flags (one process per file, as many at a time as there are cores), in the
same session: wall time, CPU time (user + system, children included), max
RSS, and for check the time to its first finding. Runs are interleaved;
the table gives each run and the ratios of the medians.

Needs the real-world corpus cache (make realworld fills it).
Usage: scripts/bench-check.py BPF_LSP_BINARY [--runs N]
"""
import argparse
import glob
import os
import resource
import statistics
import subprocess
import time

p = argparse.ArgumentParser()
p.add_argument("bin")
p.add_argument("--runs", type=int, default=3)
p.add_argument("--clang", default="clang-19")
p.add_argument("--cache", default=os.path.expanduser("~/.cache/bpf-lsp/realworld"))
a = p.parse_args()

src = os.path.join(a.cache, "linux-source-6.12/tools/testing/selftests/bpf")
inc = os.path.join(a.cache, "build/include")
if not os.path.isfile(os.path.join(inc, "vmlinux.h")):
    raise SystemExit("bench-check: no corpus cache at %s (run make realworld)" % a.cache)
bin = os.path.abspath(a.bin)
os.chdir(src)
files = sorted(glob.glob("progs/*.c"))
flags = ["-D__TARGET_ARCH_x86", "-I" + inc, "-I.", "-I../../../include/uapi", "-I../../../include",
         "-idirafter", "/usr/include/x86_64-linux-gnu"]


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_check():
    cpu0, t0 = children_cpu(), time.monotonic()
    proc = subprocess.Popen([bin, "check"] + flags + files, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    first = None
    for line in proc.stdout:
        if first is None and line.strip():
            first = time.monotonic() - t0
    _, _, ru = os.wait4(proc.pid, 0)
    return {"wall": time.monotonic() - t0, "cpu": children_cpu() - cpu0, "rss": ru.ru_maxrss / 1024, "first": first}


def run_clang():
    cpu0, t0 = children_cpu(), time.monotonic()
    cmd = ["xargs", "-P", str(os.cpu_count()), "-n", "1", a.clang, "-fsyntax-only", "-target", "bpf", "-w"] + flags
    subprocess.run(cmd, input="\n".join(files).encode(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return {"wall": time.monotonic() - t0, "cpu": children_cpu() - cpu0}


checks, clangs = [], []
for i in range(a.runs):
    checks.append(run_check())
    clangs.append(run_clang())
    c, k = checks[-1], clangs[-1]
    print("run %d: check %.1f s wall, %.1f s CPU, %.0f MB, first finding %.2f s; clang %.1f s wall, %.1f s CPU"
          % (i + 1, c["wall"], c["cpu"], c["rss"], c["first"] or -1, k["wall"], k["cpu"]), flush=True)
med = lambda rs, k: statistics.median(r[k] for r in rs)
print("\n%d files, %d cores, load average %s" % (len(files), os.cpu_count(), " ".join(open("/proc/loadavg").read().split()[:3])))
print("| | wall s | CPU s | max RSS MB | first finding s |")
print("|---|---|---|---|---|")
print("| bpf-lsp check | %.1f | %.1f | %.0f | %.2f |" % (med(checks, "wall"), med(checks, "cpu"), med(checks, "rss"), med(checks, "first")))
print("| clang -fsyntax-only | %.1f | %.1f | | |" % (med(clangs, "wall"), med(clangs, "cpu")))
print("| ratio | %.2f | %.2f | | |" % (med(checks, "wall") / med(clangs, "wall"), med(checks, "cpu") / med(clangs, "cpu")))
