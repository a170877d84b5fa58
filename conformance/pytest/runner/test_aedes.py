"""aedes, the Node.js MQTT broker from npm, as a third-party cross-check of the suite.

conformance/pytest/brokers/aedes/ pins the aedes release (package-lock.json) and holds server.js,
which serves it on a loopback port; ci/setup.sh installs Node.js and runs `npm ci` there. The suite
is played once over plain TCP. Every 3.1.1 verdict must equal aedes-<version>.tsv (pass unless
listed; every listed deviation carries its reason). aedes speaks MQTT 3.1.1 only: it answers a 5.0
CONNECT with a 3.1.1 CONNACK refusing the protocol level, so the runner's version probe makes every
5.0 scenario unsupported, which is what this file expects of them unless the table says otherwise.
The WebSocket scenarios (section 6) are unsupported over TCP; aedes is not played over WebSocket."""
import json
import pathlib
import shutil

import pytest

from conftest import MQTTSPEC, free_port, run_suite, serving
from test_conformance import explain, expectations, scenario_ids

HERE = pathlib.Path(__file__).resolve().parent
AEDES_DIR = HERE.parent / "brokers" / "aedes"
SERVER = AEDES_DIR / "server.js"
NODE = shutil.which("node") or shutil.which("nodejs")
VERSION_5_REASON = ("aedes speaks MQTT 3.1.1 only: it refuses a 5.0 CONNECT with a 3.1.1 CONNACK (20 02 00 01), "
                    "so the version probe makes every 5.0 scenario unsupported")


def aedes_version():
    """The aedes release npm installed, None when node_modules lacks it."""
    manifest = AEDES_DIR / "node_modules" / "aedes" / "package.json"
    if not manifest.exists():
        return None
    return json.loads(manifest.read_text())["version"]


def pinned_version():
    """The aedes release package.json pins (an exact version)."""
    return json.loads((AEDES_DIR / "package.json").read_text())["dependencies"]["aedes"]


def expectations_file():
    return HERE / f"aedes-{pinned_version()}.tsv"


@pytest.fixture(scope="module")
def aedes_results(tmp_path_factory):
    """scenario id -> result of one whole run (--version all) against `node server.js PORT`."""
    if NODE is None:
        pytest.skip("node is not installed (ci/setup.sh installs Debian's nodejs and npm)")
    if not MQTTSPEC.exists():
        pytest.skip(f"{MQTTSPEC} is not built")
    installed = aedes_version()
    if installed is None:
        pytest.fail(f"aedes is not installed in {AEDES_DIR}: run ci/setup.sh (npm ci there)")
    if installed != pinned_version():
        pytest.fail(f"aedes {installed} is installed but package.json pins {pinned_version()}: run ci/setup.sh")
    port = free_port()
    with serving([NODE, str(SERVER), str(port)], port, "aedes") as target:
        return run_suite(target, tmp_path_factory.mktemp("aedes-report"))


def pytest_generate_tests(metafunc):
    if "scenario" not in metafunc.fixturenames:
        return
    ids = scenario_ids()
    params = [pytest.param(s, id=f"aedes:{s}") for s in ids]
    if not params:
        params = [pytest.param(None, marks=pytest.mark.skip(reason=f"{MQTTSPEC} is not built"))]
    metafunc.parametrize("scenario", params)


def test_scenario(aedes_results, scenario):
    result = aedes_results.get(scenario)
    assert result is not None, f"{scenario} was not run"
    verdict = result["verdict"]
    if ".websocket." in scenario and verdict == "unsupported":
        return  # needs a run over WebSocket
    default = ({"unsupported"}, VERSION_5_REASON) if scenario.startswith("v5.") else ({"pass"}, "")
    acceptable, reason = expectations(expectations_file()).get(scenario, default)
    assert verdict in acceptable, f"expected {'|'.join(sorted(acceptable))} ({reason or 'conformant'}), got {explain(result)}"


def test_aedes_expectations_name_real_scenarios():
    """Every expected deviation of aedes names an existing scenario and gives a reason."""
    ids = set(scenario_ids())
    if not ids:
        pytest.skip("mqttspec is not built")
    table = expectations(expectations_file())
    assert table, f"{expectations_file().name} is missing or empty"
    for scenario, (verdicts, reason) in table.items():
        assert scenario in ids, f"{expectations_file().name}: unknown scenario {scenario}"
        assert reason.strip(), f"{expectations_file().name}: {scenario} has no reason"
        assert verdicts <= {"pass", "fail", "non-strict", "informational", "unsupported", "error"}


def test_lockfile_pins_the_tested_release():
    """package.json pins aedes exactly and package-lock.json resolves that same release, so `npm ci`
    installs what the expectations were written for."""
    pinned = pinned_version()
    assert pinned[0].isdigit() and all(part.isdigit() for part in pinned.split(".")), f"aedes is not pinned exactly: {pinned}"
    lock = json.loads((AEDES_DIR / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/aedes"]["version"] == pinned
    assert lock["packages"][""]["dependencies"]["aedes"] == pinned
