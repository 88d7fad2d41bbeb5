#!/usr/bin/env python3
"""Shell-conformance runner for agentsh.

Every case in tests/conformance/cases/*.t is a script with the stdout and exit
status bash gives for it.  Each case runs through several shells ("modes"):

  bash-c         bash -c SCRIPT
  bash-stdin     SCRIPT piped into bash
  agentsh-c      $AGENTSH -c SCRIPT
  agentsh-stdin  SCRIPT piped into $AGENTSH (no -c, stdin is a pipe)

and every mode must give exactly the spec's stdout and exit status.  stderr is
recorded for the diff but not compared (its messages name the shell).

Case file format (one file per topic; parse it with a line loop):

    # comment (only between cases)
    === case-name
    script line 1
    script line 2
    --- stdout            (or "--- stdout noeol": the last line has no newline)
    expected line 1
    --- exit 0            (or "--- exit 127 stdin=1": see below)

The script is the lines between "===" and "--- stdout", each ending in a newline.
Where bash itself gives a different status for a script read from stdin than for
-c (e.g. a ${x:?} error exits 127 under -c but 1 on stdin), "stdin=M" gives the
stdin modes' status; agentsh must then match bash in each mode.
"""
import argparse
import concurrent.futures as cf
import difflib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


class Case:
    def __init__(self, name, script, stdout, status, where, stdin_status=None):
        self.name, self.script, self.stdout, self.status, self.where = \
            name, script, stdout, status, where
        self.stdin_status = status if stdin_status is None else stdin_status

    def want_status(self, mode):
        return self.stdin_status if mode.endswith("-stdin") else self.status


def parse_file(path):
    """Returns the cases of one spec file; raises ValueError naming file:line."""
    cases, state = [], "out"
    name = where = None
    script, out, noeol = [], [], False
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for n, line in enumerate(lines, 1):
        loc = "%s:%d" % (os.path.relpath(path), n)
        if state == "out":
            if line.startswith("=== "):
                name, where, script, out, noeol = line[4:].strip(), loc, [], [], False
                if not re.fullmatch(r"[A-Za-z0-9_.+-]+", name):
                    raise ValueError("%s: bad case name %r (use letters, digits, _ . + -)" % (loc, name))
                state = "script"
            elif line.strip() == "" or line.startswith("#"):
                continue
            else:
                raise ValueError("%s: text outside a case (start one with '=== name')" % loc)
        elif state == "script":
            if line in ("--- stdout", "--- stdout noeol"):
                noeol = line.endswith("noeol")
                state = "stdout"
            elif line.startswith("--- ") or line.startswith("=== "):
                raise ValueError("%s: case %s: expected '--- stdout' before %r" % (loc, name, line))
            else:
                script.append(line)
        elif state == "stdout":
            m = re.fullmatch(r"--- exit (\d+)(?: stdin=(\d+))?", line)
            if m:
                text = "".join(l + "\n" for l in out)
                if noeol:
                    if not text:
                        raise ValueError("%s: case %s: 'noeol' with empty stdout" % (loc, name))
                    text = text[:-1]
                cases.append(Case(name, "".join(l + "\n" for l in script),
                                  text.encode(), int(m.group(1)), where,
                                  int(m.group(2)) if m.group(2) else None))
                state = "out"
            elif line.startswith("--- ") or line.startswith("=== "):
                raise ValueError("%s: case %s: expected '--- exit N' before %r" % (loc, name, line))
            else:
                out.append(line)
    if state != "out":
        raise ValueError("%s: file ends inside case %s" % (os.path.relpath(path), name))
    return cases


def load_cases(files):
    cases, seen = [], {}
    for path in files:
        for c in parse_file(path):
            if c.name in seen:
                raise ValueError("%s: duplicate case name %s (first at %s)" % (c.where, c.name, seen[c.name]))
            seen[c.name] = c.where
            cases.append(c)
    return cases


def clean_env(home):
    """The same small environment for every shell, so results do not depend on the caller's."""
    env = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": home,
        "LC_ALL": "C",
        "LANG": "C",
        "TERM": "dumb",
        "USER": os.environ.get("USER", "root"),
        "LOGNAME": os.environ.get("LOGNAME", os.environ.get("USER", "root")),
        "TMPDIR": "/tmp",
    }
    # agentsh's own settings (config directory, policy) pass through unchanged.
    for k, v in os.environ.items():
        if k.startswith("AGENTSH_"):
            env[k] = v
    return env


def make_modes(agentsh, agentsh_flags, bash_only):
    modes = [("bash-c", ["bash", "-c"], True), ("bash-stdin", ["bash"], False)]
    if not bash_only:
        modes += [("agentsh-c", [agentsh] + agentsh_flags + ["-c"], True),
                  ("agentsh-stdin", [agentsh] + agentsh_flags, False)]
    return modes


def run_one(case, mode, root, timeout, account):
    """Runs one case in one mode in a fresh empty directory; returns (stdout, status, stderr).
    account (a pwd entry or None): bash runs as that user, agentsh is given --user for it,
    and the directory belongs to it."""
    mname, argv, as_arg = mode
    cwd = os.path.join(root, case.name, mname)
    os.makedirs(cwd)
    env = clean_env(account.pw_dir if account else root)
    if account:
        env["USER"] = env["LOGNAME"] = account.pw_name
    ids = {}
    if account:
        os.chown(cwd, account.pw_uid, account.pw_gid)
        if mname.startswith("bash"):
            ids = dict(user=account.pw_uid, group=account.pw_gid, extra_groups=[])
    script = case.script.encode()
    cmd = argv + [case.script] if as_arg else argv
    try:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL if as_arg else subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             cwd=cwd, env=env, start_new_session=True, **ids)
    except OSError as e:  # e.g. the binary is being rebuilt: a failure of this case, not a crash
        return (b"", "cannot run %s: %s" % (cmd[0], e.strerror), b"")
    try:
        out, err = p.communicate(None if as_arg else script, timeout=timeout)
    except subprocess.TimeoutExpired:
        try:  # the whole process group: a hung case must not leave a sleep behind
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = p.communicate()
        return (out, "timeout after %ss" % timeout, err)
    rc = p.returncode
    if rc < 0:  # killed by a signal: report it the way a shell's $? does
        rc = 128 - rc
    return (out, rc, err)


def show(b):
    return b.decode("utf-8", "backslashreplace").splitlines(keepends=True)


def describe_failure(case, results):
    """A readable report: the script, then for each mode that differs, a diff against the spec."""
    out = ["=" * 70, "FAIL %s  (%s)" % (case.name, case.where), "--- script:"]
    out += ["    " + l for l in case.script.splitlines()]
    for mname, (stdout, rc, stderr) in results:
        want = case.want_status(mname)
        if stdout == case.stdout and rc == want:
            continue
        out.append("--- mode %s:" % mname)
        if rc != want:
            out.append("    exit status: expected %s, got %s" % (want, rc))
        if stdout != case.stdout:
            diff = difflib.unified_diff(show(case.stdout), show(stdout),
                                        "expected stdout", "%s stdout" % mname, lineterm="")
            for l in diff:
                l = l.rstrip("\n")
                out.append("    " + l)
            if case.stdout.rstrip(b"\n") == stdout.rstrip(b"\n"):
                out.append("    (only the trailing newlines differ)")
        if stderr:
            out.append("    stderr:")
            out += ["    | " + l.rstrip("\n") for l in show(stderr)[:20]]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bash-only", action="store_true",
                    help="run only bash -c and bash-on-stdin (to check the spec itself)")
    ap.add_argument("--agentsh", default=os.environ.get("AGENTSH", ""),
                    help="the agentsh binary (default $AGENTSH)")
    ap.add_argument("--jobs", "-j", type=int, default=max(4, (os.cpu_count() or 2) * 4),
                    help="cases run in parallel (most of the time is process start-up)")
    ap.add_argument("--timeout", type=float, default=15.0, help="seconds per case and mode")
    ap.add_argument("--diff-dir", default=None, help="where failing cases' diffs are written")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    ap.add_argument("--as-user", metavar="NAME", default=None,
                    help="(root) run every mode as this account: bash under its uid, "
                         "agentsh with --user NAME")
    ap.add_argument("filter", nargs="*", help="run only cases whose name contains one of these")
    a = ap.parse_args()

    files = sorted(os.path.join(HERE, "cases", f) for f in os.listdir(os.path.join(HERE, "cases"))
                   if f.endswith(".t"))
    try:
        cases = load_cases(files)
    except (ValueError, OSError) as e:
        print("conformance: cannot load the cases: %s" % e, file=sys.stderr)
        return 2
    if a.filter:
        cases = [c for c in cases if any(f in c.name for f in a.filter)]
    if a.list:
        for c in cases:
            print("%-40s %s" % (c.name, c.where))
        print("%d cases" % len(cases))
        return 0
    if not cases:
        print("conformance: no case matches %s" % a.filter, file=sys.stderr)
        return 2
    if not shutil.which("bash"):
        print("conformance: bash is not installed; it is the reference every case is checked against")
        return 77
    if not a.bash_only and not (a.agentsh and os.access(a.agentsh, os.X_OK)):
        print("conformance: agentsh binary %r is not executable; build it (make) or use --bash-only"
              % a.agentsh, file=sys.stderr)
        return 2
    flags = os.environ.get("AGENTSH_CONFORMANCE_FLAGS", "").split()
    account = None
    if a.as_user:
        import pwd
        try:
            account = pwd.getpwnam(a.as_user)
        except KeyError:
            print("conformance: --as-user %s: no such account; create it (useradd) or drop the option"
                  % a.as_user, file=sys.stderr)
            return 2
        if os.getuid() != 0:
            print("conformance: --as-user needs root (it switches the uid bash runs under)", file=sys.stderr)
            return 2
        flags += ["--user", a.as_user]
    modes = make_modes(a.agentsh, flags, a.bash_only)
    diff_dir = a.diff_dir or os.path.join(os.environ.get("AGENTSH_SRC", os.path.dirname(os.path.dirname(HERE))),
                                          os.environ.get("AGENTSH_BUILD", "build"), "conformance")
    os.umask(0o022)  # every shell inherits the same umask (a case checks it is passed on)
    root = tempfile.mkdtemp(prefix="agentsh-conf.")
    os.chmod(root, 0o755)
    t0 = time.time()
    try:
        with cf.ThreadPoolExecutor(max_workers=a.jobs) as ex:
            futs = {(c.name, m[0]): ex.submit(run_one, c, m, root, a.timeout, account) for c in cases for m in modes}
            failed = []
            for c in cases:
                results = [(m[0], futs[(c.name, m[0])].result()) for m in modes]
                bad = [mn for mn, (so, rc, _) in results if so != c.stdout or rc != c.want_status(mn)]
                if bad:
                    failed.append(c)
                    print("not ok %-38s differs in: %s" % (c.name, " ".join(bad)))
                    report = describe_failure(c, results)
                    print(report)
                    os.makedirs(diff_dir, exist_ok=True)
                    with open(os.path.join(diff_dir, c.name + ".diff"), "w") as f:
                        f.write(report + "\n")
                else:
                    print("ok     %s" % c.name)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    secs = time.time() - t0
    print("\nconformance: %d cases x %d modes (%s) in %.1fs: %d passed, %d failed"
          % (len(cases), len(modes), " ".join(m[0] for m in modes), secs,
             len(cases) - len(failed), len(failed)))
    if failed:
        print("conformance: failing cases: %s" % " ".join(c.name for c in failed))
        print("conformance: diffs written to %s/" % diff_dir)
        return 1
    return 0


if __name__ == "__main__":
    # Line by line, so a log shows how far a run got.  SIGPIPE stays ignored (Python's
    # default): a shell that exits without reading its script must not kill the runner.
    sys.stdout.reconfigure(line_buffering=True)
    sys.exit(main())
