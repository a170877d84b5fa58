"""RabbitMQ's MQTT plugin (Debian 12's rabbitmq-server) as a third-party cross-check of the suite.

ci/setup.sh installs rabbitmq-server with apt-get and stops the system service. This module starts
a private node for the session with conformance/pytest/brokers/rabbitmq/start.sh: its data, logs,
Erlang cookie (a temporary HOME), config and enabled_plugins file live in a temporary directory,
it listens on free loopback ports (MQTT, AMQP, Erlang distribution) and registers with an epmd of
its own, so nothing is shared with a system node; at the end its process group is stopped and the
directory removed. The suite is played once over plain TCP with --version all. Every 3.1.1 verdict
must equal rabbitmq-<version>.tsv (pass unless listed; every listed deviation carries its reason).
RabbitMQ 3.10 speaks MQTT 3.1 and 3.1.1 only: it closes the connection on a 5.0 CONNECT without a
CONNACK, and the runner's version probe is to make every 5.0 scenario unsupported, which is what
this file expects of them unless the table says otherwise.
The WebSocket scenarios (section 6) are unsupported over TCP; RabbitMQ is not played over
WebSocket (that is another plugin, rabbitmq_web_mqtt)."""
import contextlib
import os
import pathlib
import re
import signal
import socket
import subprocess
import tempfile
import time
import types

import pytest

from conftest import MQTTSPEC, free_port, run_suite, wait_for_port
from test_conformance import explain, expectations, scenario_ids

HERE = pathlib.Path(__file__).resolve().parent
START = HERE.parent / "brokers" / "rabbitmq" / "start.sh"
RABBITMQ_LIB = pathlib.Path("/usr/lib/rabbitmq/lib")
START_DEADLINE_S = 60.0
STOP_DEADLINE_S = 30.0
NODE = types.SimpleNamespace(startup_s=None, pgid=None, workdir=None, port=None)  # the run's node
VERSION_5_REASON = ("RabbitMQ 3.10 speaks MQTT 3.1.1 at most: it closes the connection on a 5.0 CONNECT "
                    "without a CONNACK, so the version probe makes every 5.0 scenario unsupported")


def rabbitmq_version():
    """The installed RabbitMQ release (from /usr/lib/rabbitmq/lib/rabbitmq_server-X.Y.Z), None when
    Debian's rabbitmq-server is not installed."""
    found = sorted(p.name for p in RABBITMQ_LIB.glob("rabbitmq_server-*")) if RABBITMQ_LIB.is_dir() else []
    if not found or not (RABBITMQ_LIB.parent / "bin" / "rabbitmq-server").exists():
        return None
    return found[-1].split("-", 1)[1]


def expectations_file(version):
    return HERE / f"rabbitmq-{version}.tsv"


def mqtt_accepts(port):
    """True when a 3.1.1 CONNECT (clean session, empty ClientId) on 127.0.0.1:port gets CONNACK 0.
    The MQTT listener opens before the node has finished booting, so an open port is not enough."""
    connect = bytes.fromhex("100c00044d5154540402000a0000")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(connect)
            answer = b""
            while len(answer) < 4:
                chunk = s.recv(4 - len(answer))
                if not chunk:
                    return False
                answer += chunk
            s.sendall(bytes.fromhex("e000"))  # DISCONNECT
            return answer == bytes.fromhex("20020000")
    except OSError:
        return False


def _group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _stop_group(proc):
    """SIGTERM to the node's process group (start.sh, epmd, the node, its port programs); SIGKILL
    what is left after STOP_DEADLINE_S."""
    pgid = proc.pid  # start_new_session: the group is the script's pid
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_DEADLINE_S)
    except subprocess.TimeoutExpired:
        pass
    end = time.monotonic() + (STOP_DEADLINE_S if proc.returncode is None else 5.0)
    while _group_alive(pgid) and time.monotonic() < end:
        time.sleep(0.1)
    if _group_alive(pgid) or proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        proc.wait()


def _log_tail(workdir):
    texts = []
    for name in ("start.out", "log/rabbit.log"):
        path = pathlib.Path(workdir) / name
        if path.exists():
            texts.append(f"--- {name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-40:]))
    return "\n".join(texts)


@contextlib.contextmanager
def rabbitmq_node(node):
    """A private RabbitMQ node with the MQTT plugin; yields its MQTT target. `node` (a
    SimpleNamespace) gets startup_s, the seconds until it accepted MQTT, pgid, workdir and port."""
    mqtt_port, amqp_port, dist_port, epmd_port = (free_port() for _ in range(4))
    with tempfile.TemporaryDirectory(prefix="mqttspec-rabbitmq-") as workdir:
        node.workdir, node.port = pathlib.Path(workdir), mqtt_port
        started = time.monotonic()
        with open(pathlib.Path(workdir) / "start.out", "wb") as out:
            proc = subprocess.Popen([str(START), os.path.join(workdir, "node"), str(mqtt_port), str(amqp_port),
                                     str(dist_port), str(epmd_port)],
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        node.pgid = proc.pid  # start_new_session: the group is the script's pid
        try:
            end = started + START_DEADLINE_S
            ready = False
            while time.monotonic() < end and proc.poll() is None:
                if wait_for_port(mqtt_port, min(1.0, max(0.0, end - time.monotonic()))):
                    if mqtt_accepts(mqtt_port):
                        ready = True
                        break
                    time.sleep(0.2)
            if not ready:
                pytest.fail(f"RabbitMQ did not accept MQTT on 127.0.0.1:{mqtt_port} within {START_DEADLINE_S:.0f} s "
                            f"(start.sh {'exited ' + str(proc.returncode) if proc.poll() is not None else 'still running'})\n"
                            + _log_tail(workdir))
            node.startup_s = time.monotonic() - started
            yield f"127.0.0.1:{mqtt_port}"
        finally:
            _stop_group(proc)


@pytest.fixture(scope="module")
def rabbitmq_results(tmp_path_factory):
    """scenario id -> result of one whole run (--version all) against a private RabbitMQ node."""
    version = rabbitmq_version()
    if version is None:
        pytest.skip("rabbitmq-server is not installed (ci/setup.sh installs Debian's package)")
    if not MQTTSPEC.exists():
        pytest.skip(f"{MQTTSPEC} is not built")
    if not expectations_file(version).exists():
        pytest.fail(f"RabbitMQ {version} is installed but there is no {expectations_file(version).name}: "
                    "play the suite against it and write down its deviations")
    with rabbitmq_node(NODE) as target:
        return run_suite(target, tmp_path_factory.mktemp("rabbitmq-report"))


def pytest_generate_tests(metafunc):
    if "scenario" not in metafunc.fixturenames:
        return
    ids = scenario_ids()
    params = [pytest.param(s, id=f"rabbitmq:{s}") for s in ids]
    if not params:
        params = [pytest.param(None, marks=pytest.mark.skip(reason=f"{MQTTSPEC} is not built"))]
    metafunc.parametrize("scenario", params)


def test_scenario(rabbitmq_results, scenario):
    result = rabbitmq_results.get(scenario)
    assert result is not None, f"{scenario} was not run"
    verdict = result["verdict"]
    if ".websocket." in scenario and verdict == "unsupported":
        return  # needs a run over WebSocket
    default = ({"unsupported"}, VERSION_5_REASON) if scenario.startswith("v5.") else ({"pass"}, "")
    acceptable, reason = expectations(expectations_file(rabbitmq_version())).get(scenario, default)
    assert verdict in acceptable, f"expected {'|'.join(sorted(acceptable))} ({reason or 'conformant'}), got {explain(result)}"


def test_rabbitmq_expectations_name_real_scenarios():
    """Every expected deviation of RabbitMQ, in every rabbitmq-*.tsv, names an existing scenario and
    gives a reason."""
    ids = set(scenario_ids())
    if not ids:
        pytest.skip("mqttspec is not built")
    files = sorted(HERE.glob("rabbitmq-*.tsv"))
    assert files, "no rabbitmq-<version>.tsv"
    for path in files:
        assert re.fullmatch(r"rabbitmq-\d+\.\d+\.\d+\.tsv", path.name), f"{path.name}: not rabbitmq-X.Y.Z.tsv"
        table = expectations(path)
        assert table, f"{path.name} is empty"
        for scenario, (verdicts, reason) in table.items():
            assert scenario in ids, f"{path.name}: unknown scenario {scenario}"
            assert reason.strip(), f"{path.name}: {scenario} has no reason"
            assert verdicts <= {"pass", "fail", "non-strict", "informational", "unsupported", "error"}


def test_node_left_nothing_behind(rabbitmq_results):
    """The node of the run started within the deadline and, once stopped, left no process of its
    group, no listener on its MQTT port and no file."""
    assert NODE.startup_s < START_DEADLINE_S
    assert not _group_alive(NODE.pgid), f"processes of group {NODE.pgid} outlived the node"
    assert not NODE.workdir.exists(), f"{NODE.workdir} was not removed"
    assert not wait_for_port(NODE.port, 0.2), f"127.0.0.1:{NODE.port} still accepts connections after the node stopped"
