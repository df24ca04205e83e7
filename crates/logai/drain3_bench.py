# drain3 throughput on the same loghub-2k lines as benches/logai.rs (see BENCHMARKS.md, "Log AI").
# Usage: python3 -m venv .venv-logai && .venv-logai/bin/pip install drain3 && .venv-logai/bin/python crates/logai/drain3_bench.py
import sys, time, logging
logging.disable(logging.CRITICAL)
from drain3 import TemplateMiner
from drain3.template_miner_config import TemplateMinerConfig
systems = ["Android","Apache","BGL","HDFS","Hadoop","HealthApp","OpenSSH","Spark","Windows","Zookeeper"]
corpus = {s: open(f"/work/shared/data/loghub-2k/{s}/{s}_2k.log", encoding="utf-8").read().splitlines() for s in systems}
n = sum(len(v) for v in corpus.values())
cfg = TemplateMinerConfig()  # generic defaults, no masking rules
miners = {s: TemplateMiner(config=cfg) for s in systems}
t = time.perf_counter()
for s, lines in corpus.items():
    for l in lines: miners[s].add_log_message(l)
learning = time.perf_counter() - t
t = time.perf_counter()
for s, lines in corpus.items():
    for l in lines: miners[s].match(l)
matched = time.perf_counter() - t
print(f"drain3 lines {n} learning {n/learning:.0f} lines/s  match-only (learned) {n/matched:.0f} lines/s")
