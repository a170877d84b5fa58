"""The conformance suite as pytest items: one per (broker, scenario).

Against the reference broker every scenario must pass. Against mosquitto 2.0.11 each verdict must
equal mosquitto-2.0.11.tsv (pass unless listed; every listed deviation carries its reason).
With --broker HOST:PORT, a scenario fails when its verdict is fail or error. The runs here are over
plain TCP, so the WebSocket scenarios (section 6) are unsupported; test_websocket.py plays them.
The brokers here have every capability, so the v5.capabilities.* scenarios for brokers without
some are unsupported too; test_capabilities.py plays them against limited brokers."""
import pathlib
import subprocess

import pytest

from conftest import MOSQUITTO, MQTTSPEC

HERE = pathlib.Path(__file__).resolve().parent
EXPECTATIONS = HERE / "mosquitto-2.0.11.tsv"
JUNIT_XSD = HERE.parents[2] / "reports" / "junit.xsd"


def scenario_ids():
    if not MQTTSPEC.exists():
        return []
    out = subprocess.run([str(MQTTSPEC), "list", "--version", "all"], capture_output=True, text=True, timeout=60)
    # Scenario lines start with their id ("v3.1.1.…" or "v5.…"); the last line is a count.
    return [line.split()[0] for line in out.stdout.splitlines() if line.startswith(("v3.1.1.", "v5."))]


def expectations(path=EXPECTATIONS):
    """scenario id -> (acceptable verdicts, reason), from an expectations file like mosquitto's."""
    table = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        scenario, verdicts, reason = line.split("\t")
        table[scenario] = (set(verdicts.split("|")), reason)
    return table


def mosquitto_version():
    out = subprocess.run([MOSQUITTO, "-h"], capture_output=True, text=True)
    first = (out.stdout or out.stderr).splitlines()[0]
    return first.split()[-1]


def pytest_generate_tests(metafunc):
    if "scenario" not in metafunc.fixturenames:
        return
    ids = scenario_ids()
    custom = metafunc.config.getoption("--broker")
    names = ["custom"] if custom else ["reference", "mosquitto"]
    params = [pytest.param(n, s, id=f"{n}:{s}") for n in names for s in ids]
    if not params:
        params = [pytest.param(None, None, marks=pytest.mark.skip(reason=f"{MQTTSPEC} is not built"))]
    metafunc.parametrize("broker_name,scenario", params)


def explain(result):
    return f"{result['verdict']}: {result.get('message', '')}\nrerun: {result.get('rerun', '')}"


def test_scenario(brokers, broker_name, scenario):
    if broker_name == "mosquitto" and mosquitto_version() != "2.0.11":
        pytest.skip(f"expectations are for mosquitto 2.0.11, found {mosquitto_version()}")
    result = brokers.results(broker_name).get(scenario)
    assert result is not None, f"{scenario} was not run"
    verdict = result["verdict"]
    if ".websocket." in scenario and verdict == "unsupported":
        return  # needs a run over WebSocket: test_websocket.py
    if ".capabilities." in scenario and verdict == "unsupported":
        return  # needs a broker that lacks a capability: test_capabilities.py
    if broker_name == "reference":
        assert verdict == "pass", explain(result)
    elif broker_name == "mosquitto":
        acceptable, reason = expectations().get(scenario, ({"pass"}, ""))
        assert verdict in acceptable, f"expected {'|'.join(sorted(acceptable))} ({reason or 'conformant'}), got {explain(result)}"
    else:
        assert verdict not in ("fail", "error"), explain(result)


def test_expectations_name_real_scenarios():
    """Every expected deviation names an existing scenario and gives a reason."""
    ids = set(scenario_ids())
    if not ids:
        pytest.skip("mqttspec is not built")
    for scenario, (verdicts, reason) in expectations().items():
        assert scenario in ids, f"{EXPECTATIONS.name}: unknown scenario {scenario}"
        assert reason.strip(), f"{EXPECTATIONS.name}: {scenario} has no reason"
        assert verdicts <= {"pass", "fail", "non-strict", "informational", "unsupported", "error"}


@pytest.mark.parametrize("broker_name", ["reference", "mosquitto"])
def test_whole_suite_reports_are_valid(brokers, broker_name, request):
    """The reports of a whole run (every scenario, wire logs and all) are what a CI reads: the JUnit
    file validates against the schema with a stock xmllint, and the HTML page is written."""
    if request.config.getoption("--broker"):
        broker_name = "custom"
    elif broker_name == "mosquitto" and mosquitto_version() != "2.0.11":
        pytest.skip(f"the mosquitto run is for 2.0.11, found {mosquitto_version()}")
    brokers.results(broker_name)
    report_dir = brokers.report_dir(broker_name)
    junit = report_dir / "junit.xml"
    check = subprocess.run(["xmllint", "--noout", "--schema", str(JUNIT_XSD), str(junit)],
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stderr[-3000:]
    assert (report_dir / "report.html").stat().st_size > 0
