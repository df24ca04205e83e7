#!/usr/bin/env python3
"""Leave-one-system-out evaluation of Log AI's tunable thresholds.

Usage: crates/logai/loo.py [--bin PARSE_BINARY] [--jobs N] [--quick] [--more DIR:SYS,SYS,...]

--more adds systems laid out as Loghub-2k is (DIR/S/S_2k.log and its _structured_corrected.csv),
e.g. the six other systems of logpai/logparser's data/loghub_2k_corrected:
--more /path/loghub_2k_corrected:HPC,Linux,Mac,OpenStack,Proxifier,Thunderbird

Every system is parsed as `redscope logai parse` runs (raw lines on stdin, one resource) under
each setting of a small grid of the thresholds the `parse` example reads from the environment
(LOGAI_SIMILARITY, LOGAI_WORD_VARIANTS; see examples/parse.rs), and scored with
../shared/logai-eval/score.py: the ten Loghub-2k systems on templates (GA, PA), the corpus
systems with levels (testdata/corpus) on severity (SEV, FPE).

For each system, the setting with the best mean score on all the OTHER systems is picked, and
the held-out system's score under that setting is its leave-one-out figure. A system's score is
(GA + PA) / 2 for templates and SEV - 10 * FPE for severity (a false error costs ten misses),
so both kinds of system weigh alike in the choice. Prints the usual averages (default
configuration) beside the leave-one-out averages, then the settings that were picked.
"""
import argparse
import concurrent.futures
import importlib.util
import itertools
import json
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LOGHUB = os.path.join(ROOT, "..", "shared", "data", "loghub-2k")
CORPUS = os.path.join(ROOT, "testdata", "corpus")
SCORER = os.path.join(ROOT, "..", "shared", "logai-eval", "score.py")
LOGHUB_SYSTEMS = ["Android", "Apache", "BGL", "HDFS", "Hadoop", "HealthApp", "OpenSSH", "Spark",
                  "Windows", "Zookeeper"]
DEFAULT = (0.5, 4)
GRID = list(itertools.product([0.3, 0.4, 0.5, 0.6, 0.7], [2, 3, 4, 6, 8]))
QUICK_GRID = list(itertools.product([0.4, 0.5, 0.6], [3, 4, 6]))


def load_scorer():
    spec = importlib.util.spec_from_file_location("score", SCORER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build():
    subprocess.run(["cargo", "build", "--quiet", "--release", "-p", "logai", "--example", "parse"],
                   cwd=ROOT, check=True)
    return os.path.join(ROOT, "target", "release", "examples", "parse")


def systems(more=()):
    """(name, kind, log, truth) for every system with the truth it is scored on."""
    found = []
    for directory, name in [(LOGHUB, n) for n in LOGHUB_SYSTEMS] + list(more):
        base = os.path.join(directory, name, f"{name}_2k.log")
        if not os.path.isfile(base):
            sys.exit(f"missing {base}")
        found.append((name, "templates", base, base + "_structured_corrected.csv"))
    for name in sorted(os.listdir(CORPUS)):
        log = os.path.join(CORPUS, name, f"{name}.log")
        truth = os.path.join(CORPUS, name, "truth.csv")
        if os.path.isfile(log) and os.path.isfile(truth):
            found.append((name, "severity", log, truth))
    return found


def run(binary, scorer, system, setting):
    import csv
    name, kind, log, truth = system
    env = dict(os.environ, LOGAI_SIMILARITY=str(setting[0]), LOGAI_WORD_VARIANTS=str(setting[1]))
    with open(log, "rb") as src:
        out = subprocess.run([binary], stdin=src, capture_output=True, env=env, check=True).stdout
    preds = [json.loads(line) for line in out.splitlines() if line.strip()]
    with open(truth, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    result = scorer.score(rows, preds)
    if kind == "templates":
        return {"GA": result["GA"], "PA": result["PA"], "value": (result["GA"] + result["PA"]) / 2}
    if "SEV" not in result:
        return None
    return {"SEV": result["SEV"], "FPE": result["FPE"], "value": result["SEV"] - 10 * result["FPE"]}


def evaluate(binary, grid, jobs, more=()):
    """{(system name, setting): score} over the grid; systems without truth are left out."""
    scorer = load_scorer()
    cases = [(system, setting) for system in systems(more) for setting in grid]
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        scores = list(pool.map(lambda case: run(binary, scorer, *case), cases))
    table, kinds = {}, {}
    for (system, setting), result in zip(cases, scores):
        if result is not None:
            table[(system[0], setting)] = result
            kinds[system[0]] = system[1]
    return table, kinds


def leave_one_out(table, kinds, grid):
    """{held-out name: (picked setting, its score there)}."""
    names = sorted(kinds)
    picked = {}
    for held in names:
        def others_mean(setting):
            values = [table[(n, setting)]["value"] for n in names if n != held]
            return sum(values) / len(values)
        # Ties go to the setting nearest the default, then to the earlier one in the grid.
        best = max(grid, key=lambda s: (round(others_mean(s), 6), s == DEFAULT))
        picked[held] = (best, table[(held, best)])
    return picked


def mean(rows, key):
    return sum(r[key] for r in rows) / len(rows)


def report(table, kinds, picked):
    for kind, keys in (("templates", ("GA", "PA")), ("severity", ("SEV", "FPE"))):
        names = [n for n in sorted(kinds, key=str.lower) if kinds[n] == kind]
        print(f"\n{kind}: {len(names)} systems")
        print(f"| {'system':<24} | " + " | ".join(f"{k} default" for k in keys) + " | picked (sim, variants) | "
              + " | ".join(f"{k} held out" for k in keys) + " |")
        for n in names:
            default, (setting, held) = table[(n, DEFAULT)], picked[n]
            print(f"| {n:<24} | " + " | ".join(f"{default[k]:10.4f}" for k in keys)
                  + f" | {str(setting):<22} | " + " | ".join(f"{held[k]:11.4f}" for k in keys) + " |")
        defaults = [table[(n, DEFAULT)] for n in names]
        helds = [picked[n][1] for n in names]
        print(f"average, default config: " + ", ".join(f"{k} {mean(defaults, k):.4f}" for k in keys))
        print(f"average, leave-one-out:  " + ", ".join(f"{k} {mean(helds, k):.4f}" for k in keys))


def sensitivity(table, kinds, grid):
    """The averages of every setting over all systems: how much the thresholds matter at all."""
    print("\nevery setting, all systems:")
    print("| similarity | word_variants | GA | PA | SEV | FPE |")
    templates = [n for n in kinds if kinds[n] == "templates"]
    severity = [n for n in kinds if kinds[n] == "severity"]
    for setting in grid:
        t = [table[(n, setting)] for n in templates]
        v = [table[(n, setting)] for n in severity]
        print(f"| {setting[0]} | {setting[1]} | {mean(t, 'GA'):.4f} | {mean(t, 'PA'):.4f} | "
              f"{mean(v, 'SEV'):.4f} | {mean(v, 'FPE'):.4f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="a 3x3 grid around the default")
    ap.add_argument("--more", action="append", default=[], help="DIR:SYS,SYS (Loghub layout)")
    a = ap.parse_args()
    more = []
    for spec in a.more:
        directory, _, names = spec.rpartition(":")
        more += [(directory, n) for n in names.split(",") if n]
    binary = a.bin or build()
    grid = QUICK_GRID if a.quick else GRID
    table, kinds = evaluate(binary, grid, a.jobs, more)
    picked = leave_one_out(table, kinds, grid)
    print(f"grid: similarity x word_variants, {len(grid)} settings; default {DEFAULT}")
    report(table, kinds, picked)
    sensitivity(table, kinds, grid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
