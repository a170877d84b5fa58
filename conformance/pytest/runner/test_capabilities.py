"""The scenarios for brokers that lack a capability (requires="!tag": Maximum QoS below 2, Retain
Available 0, no Topic Alias Maximum) or set small limits (requires="receive-maximum<=2", a Maximum
Packet Size), against mqttspec-broker and mosquitto 2.0.11 configured that way.

Against fully capable brokers (test_conformance.py) these scenarios are unsupported. Here each
broker runs in two limited configurations (one lacks QoS 2, which the Receive Maximum scenario
needs); every scenario must be played by at least one of them, and pass (mosquitto: or give the
verdict mosquitto-2.0.11.tsv documents)."""
import json
import pathlib
import subprocess

import pytest

from conftest import MQTTSPEC, BROKER, mosquitto, reference_broker

HERE = pathlib.Path(__file__).resolve().parent

SELECTOR = "v5.capabilities.*"
REFERENCE_CONFIGS = [
    ["--max-qos", "1", "--retain-available", "false", "--topic-alias-maximum", "0", "--max-packet-size", "1000"],
    ["--receive-maximum", "2"],
]
MOSQUITTO_CONFIGS = [
    ["max_qos 1", "retain_available false", "max_topic_alias 0", "max_packet_size 1000"],
    ["max_inflight_messages 2"],
]


@pytest.fixture(autouse=True)
def built():
    if not MQTTSPEC.exists():
        pytest.skip(f"{MQTTSPEC} is not built")


def mosquitto_deviations():
    """scenario id -> the verdicts mosquitto-2.0.11.tsv accepts."""
    rows = (line.split("\t") for line in (HERE / "mosquitto-2.0.11.tsv").read_text().splitlines())
    return {row[0]: set(row[1].split("|")) for row in rows if len(row) == 3 and not row[0].startswith("#")}


def verdicts_against(report, target, deviations=None):
    cmd = [str(MQTTSPEC), "run", SELECTOR, "-q", "--report-dir", str(report), "--target", target]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    output = proc.stdout + proc.stderr
    assert (report / "results.json").exists(), output
    verdicts = {r["id"]: r["verdict"] for r in json.loads((report / "results.json").read_text())["results"]}
    deviations = deviations or {}
    wrong = {i: v for i, v in verdicts.items() if v not in {"pass", "unsupported"} | deviations.get(i, set())}
    assert not wrong, output
    return verdicts


def assert_each_played(runs):
    ids = set().union(*runs)
    assert len(ids) >= 11
    never = sorted(i for i in ids if all(run.get(i) == "unsupported" for run in runs))
    assert not never, f"not played by any configuration: {never}"


def test_limited_reference_broker(tmp_path):
    if not BROKER.exists():
        pytest.skip(f"{BROKER} is not built")
    runs = []
    for n, options in enumerate(REFERENCE_CONFIGS):
        with reference_broker("--bind", "127.0.0.1", *options) as target:
            runs.append(verdicts_against(tmp_path / f"report{n}", target))
    assert_each_played(runs)


def test_limited_mosquitto(tmp_path):
    runs = []
    for n, lines in enumerate(MOSQUITTO_CONFIGS):
        with mosquitto(tmp_path, *lines) as target:
            runs.append(verdicts_against(tmp_path / f"report{n}", target, mosquitto_deviations()))
    assert_each_played(runs)
