"""Build the seed corpora and run the fuzz targets, one at a time, niced.

    python fuzz/run.py --smoke --seconds 10        # every target briefly (CI)
    python fuzz/run.py nginx --seconds 600         # one target for ten minutes
    python fuzz/run.py --seeds-only                # just (re)build fuzz/seeds/

Seeds are copied from fixtures/ and tests/data/ at run time into fuzz/seeds/<target>/ (not
checked in); the growing corpus lives in fuzz/corpus/<target>/ and crashing inputs in
fuzz/artifacts/<target>/ (both ignored by git). Each crasher found belongs, once fixed, in
tests/data/fuzz-regressions/<target>/ (tests/test_robustness_regressions.py feeds them through).
Prints the executions run per target; exits non-zero when a target found a crash.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TARGETS = ("k8s", "compose", "nginx", "haproxy", "redis", "scan")
SEED_SOURCES = (REPO / "fixtures", REPO / "tests" / "data", REPO / "examples")
MAX_SEED_BYTES = 64 * 1024


def seed_kind(path: Path) -> str | None:
    sys.path.insert(0, str(REPO))
    from infralint import discover

    source = discover.read(str(path), str(path.parent), MAX_SEED_BYTES)
    return getattr(source, "kind", None)


def build_seeds() -> dict[str, int]:
    counts = dict.fromkeys(TARGETS, 0)
    for target in TARGETS:
        shutil.rmtree(HERE / "seeds" / target, ignore_errors=True)
        (HERE / "seeds" / target).mkdir(parents=True)
    for source_root in SEED_SOURCES:
        for path in sorted(source_root.rglob("*")):
            if not path.is_file() or path.stat().st_size > MAX_SEED_BYTES:
                continue
            kind = seed_kind(path)
            if kind not in TARGETS:
                continue
            name = str(path.relative_to(REPO)).replace(os.sep, "__")
            shutil.copyfile(path, HERE / "seeds" / kind / name)
            counts[kind] += 1
            # The scan target reads its first byte as the file name's index (fuzz_scan).
            index = ("k8s", "compose", "nginx", "haproxy", "redis").index(kind)
            (HERE / "seeds" / "scan" / name).write_bytes(bytes([index]) + path.read_bytes())
            counts["scan"] += 1
    return counts


def run_target(target: str, seconds: int, extra: list[str]) -> tuple[int, int, float]:
    """Fuzz TARGET for at most SECONDS; (executions, return code, seconds it ran)."""
    corpus = HERE / "corpus" / target
    artifacts = HERE / "artifacts" / target
    corpus.mkdir(parents=True, exist_ok=True)
    artifacts.mkdir(parents=True, exist_ok=True)
    command = [
        "nice",
        "-n",
        "10",
        sys.executable,
        str(HERE / "targets.py"),
        target,
        f"-max_total_time={seconds}",
        "-timeout=20",
        "-rss_limit_mb=2048",
        "-max_len=65536",
        f"-artifact_prefix={artifacts}{os.sep}",
        "-print_final_stats=1",
        *extra,
        str(corpus),
        str(HERE / "seeds" / target),
    ]
    started = time.monotonic()
    completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    log = completed.stdout + completed.stderr
    (artifacts / "last.log").write_text(log)
    runs = re.findall(r"stat::number_of_executed_units:\s*(\d+)", log) or re.findall(r"Done (\d+) runs", log)
    executions = int(runs[-1]) if runs else 0
    if completed.returncode != 0:
        sys.stderr.write(log[-4000:])
    return executions, completed.returncode, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="*", metavar="TARGET", help=f"any of {', '.join(TARGETS)} (default: all)")
    parser.add_argument("--seconds", type=int, default=60, help="per target")
    parser.add_argument("--smoke", action="store_true", help="every target (a short run in CI)")
    parser.add_argument("--seeds-only", action="store_true")
    args, extra = parser.parse_known_args()
    unknown = sorted(set(args.targets) - set(TARGETS))
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}")
    counts = build_seeds()
    print("seeds: " + ", ".join(f"{target} {count}" for target, count in counts.items()))
    if args.seeds_only:
        return 0
    targets = list(TARGETS) if args.smoke or not args.targets else args.targets
    failed = False
    if args.smoke:
        extra = ["-seed=1", *extra]  # the same mutations each CI run (the time budget still varies the count)
    for target in targets:
        executions, code, elapsed = run_target(target, args.seconds, extra)
        status = "ok" if code == 0 else f"FAILED (exit {code}; input in fuzz/artifacts/{target}/)"
        print(f"{target}: {executions} executions in {elapsed:.0f} s: {status}", flush=True)
        failed = failed or code != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
