"""A short run of ci/bench-neutral.sh (the broker comparison driven by mosquitto_pub/_sub): it must
finish, report all six workloads for both brokers, and the reference broker must deliver every
QoS 1 message. The full-length run is the script itself."""
import json
import os
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[3]


def test_bench_neutral_short_run(tmp_path):
    build = os.environ.get("MQTTSPEC_BUILD", str(ROOT / "build" / "test"))
    env = dict(os.environ, MQTTSPEC_BUILD=build, MQTTSPEC_NEUTRAL_MESSAGES="300", MQTTSPEC_NEUTRAL_CLIENTS="2",
               MQTTSPEC_NEUTRAL_OUT=str(tmp_path))
    done = subprocess.run(["bash", str(ROOT / "ci" / "bench-neutral.sh")], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "neutral.json").read_text())
    runs = {(r["workload"], r["qos"]): r for r in report["runs"]}
    assert set(runs) == {(w, q) for w in ("pairs", "fan-in", "fan-out") for q in (0, 1)}
    for (workload, qos), run in runs.items():
        for side in ("a", "b"):
            assert run[side]["expected"] == 600, (workload, qos, side)
            assert run[side]["seconds"] > 0, (workload, qos, side)
        if qos == 1:
            assert run["a"]["delivered"] == run["a"]["expected"], (workload, run["a"])
    assert "| pairs | 1 |" in (tmp_path / "neutral.md").read_text()
