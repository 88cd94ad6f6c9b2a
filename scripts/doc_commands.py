"""Runs the commands of README.md and docs/ that finish in seconds on generated data, so that a
renamed option, flag or config breaks a test rather than a user; lists the others as not run,
each with the reason (real data, a download, minutes of training, a file of the reader's own).

A training command on a demo config (apps/configs/*_demo.json, generated data) runs as written
but for a shortened schedule appended to it (train.max_steps=2): its config, every --set key and
every flag are checked the same way. Run directories (runs/...) go to a temporary folder.

Usage (from the repository root; ctest runs it as DocCommands.RunInSeconds):
  /usr/bin/python3 scripts/doc_commands.py BUILD_DIR
Exit status: 0 when every command run succeeded, 1 otherwise.
"""
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

SHORT = ["--set", "train.max_steps=2", "--set", "train.log_every_steps=1", "--set", "train.eval_every_steps=0",
         "--set", "train.ckpt_every_steps=0"]
PROGRAMS = re.compile(r"^(build/bin/)?(zoo|train_[a-z]+)\b")
PLACEHOLDER = re.compile(r"\b(DIR|FILE|OUT|RUN|NAME|COMMAND|PICS|INPUT)\b|\.\.\.|…|\[|\|")


def commands(path):
    """(line number, command) of every shell command in fenced blocks and inline code spans."""
    text = open(path, encoding="utf-8").read()
    found = []
    in_block, lang, pending, start = False, "", "", 0
    for number, line in enumerate(text.split("\n"), 1):
        fence = re.match(r"^```(\w*)", line)
        if fence:
            in_block, lang = (not in_block), fence.group(1)
            continue
        if in_block:
            if lang not in ("", "sh", "bash") or line.startswith("DIR/") or line.startswith(" " * 10):
                continue
            code = re.split(r"\s+#\s", line, maxsplit=1)[0].strip()
            if not code or code.startswith("#"):
                continue
            if not pending:
                start = number
            if code.endswith("\\"):
                pending += code[:-1] + " "
                continue
            found.append((start, pending + code))
            pending = ""
        else:
            for span in re.findall(r"`([^`]+)`", line):
                # A mention such as `zoo eval` is not a command; one with a flag is.
                if PROGRAMS.match(span) and " --" in span:
                    found.append((number, span))
    return found


def why_not_run(cmd):
    """None when the command runs in seconds on generated data; else the reason it is not run."""
    if not PROGRAMS.match(cmd):
        return "not a zoo command (scripts, downloads, Python, shell): minutes, or network"
    if PLACEHOLDER.search(cmd):
        return "a synopsis with placeholders"
    if "../shared/" in cmd or "pretrained/" in cmd:
        return "real data or a published checkpoint: minutes"
    if re.search(r"\b(train_[a-z]+|zoo train|zoo launch)\b", cmd):
        config = re.search(r"--config (\S+)", cmd)
        if not config or not config.group(1).endswith("_demo.json"):
            return "trains on real data (or from another run): minutes to hours"
    if re.search(r"zoo predict .*\.(jpg|png)\b", cmd):
        return "needs a picture of your own"
    return None


def run(cmd, root, build_dir, runs_dir):
    words = shlex.split(cmd)
    words[0] = os.path.join(build_dir, "bin", re.sub(r"^build/bin/", "", words[0]))
    words = [os.path.join(build_dir, "bin", w[len("build/bin/"):]) if w.startswith("build/bin/") else w for w in words]
    words = [re.sub(r"^runs/", runs_dir + "/", w) for w in words]
    if re.search(r"\b(train_[a-z]+|zoo train|zoo launch)\b", cmd):
        if "--out" not in words:  # else it would make runs/<task>-<time> in the repository
            words += ["--out", tempfile.mkdtemp(dir=runs_dir)]
        words += SHORT
    out = subprocess.run(words, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    return out.returncode, out.stdout


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    build_dir = os.path.abspath(sys.argv[1])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    files = ["README.md"] + sorted(glob.glob("docs/**/*.md", root_dir=root, recursive=True))
    runs_dir = tempfile.mkdtemp(prefix="zoo_doc_commands_")
    ran, failed, skipped, seen = 0, 0, [], set()
    try:
        for f in files:
            for number, cmd in commands(os.path.join(root, f)):
                if cmd in seen:
                    continue
                seen.add(cmd)
                reason = why_not_run(cmd)
                if reason:
                    skipped.append("%s:%d: %s  [not run: %s]" % (f, number, cmd, reason))
                    continue
                status, output = run(cmd, root, build_dir, runs_dir)
                ran += 1
                if status != 0:
                    failed += 1
                    print("FAILED %s:%d: %s\n%s" % (f, number, cmd, output[-2000:]))
                else:
                    print("ok     %s:%d: %s" % (f, number, cmd))
    finally:
        shutil.rmtree(runs_dir, ignore_errors=True)
    print("\nnot run (%d):" % len(skipped))
    for line in skipped:
        print("  " + line)
    print("\ndoc commands: %d run, %d failed, %d not run" % (ran, failed, len(skipped)))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
