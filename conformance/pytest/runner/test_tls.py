"""The runner over TLS (--tls, --cafile, --cert/--key, --insecure) against mosquitto and against
mqttspec-broker's TLS listener, with a test PKI made by the openssl command.

Each run plays the PUBLISH and SUBSCRIBE scenarios (sections 3.3 and 3.8 of both versions, minus
mosquitto's documented deviations), so a pass means MQTT traffic really flowed through TLS."""
import json
import pathlib
import subprocess

import pytest

from conftest import MOSQUITTO, MQTTSPEC, BROKER, mosquitto, reference_broker

HERE = pathlib.Path(__file__).resolve().parent
SELECTORS = ["3.3", "3.8"]


def mosquitto_deviations():
    rows = (line.split("\t") for line in (HERE / "mosquitto-2.0.11.tsv").read_text().splitlines())
    return [row[0] for row in rows if row and row[0] and not row[0].startswith("#")]


def run(tmp_path, *args):
    """mqttspec run with the common selectors; returns (exit status, verdicts by id, output)."""
    report = tmp_path / "report"
    cmd = [str(MQTTSPEC), "run", *SELECTORS, "--version", "all", "-j", "2", "-q", "--report-dir", str(report), *args]
    for scenario in mosquitto_deviations():
        cmd += ["--exclude", scenario]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    results = report / "results.json"
    verdicts = {}
    if results.exists():
        verdicts = {r["id"]: r["verdict"] for r in json.loads(results.read_text())["results"]}
    return proc.returncode, verdicts, proc.stdout + proc.stderr


def assert_all_pass(status, verdicts, output):
    assert status == 0, output
    assert len(verdicts) >= 20, output
    failed = {k: v for k, v in verdicts.items() if v != "pass"}
    assert not failed, output


@pytest.fixture(autouse=True)
def built():
    if not MQTTSPEC.exists():
        pytest.skip(f"{MQTTSPEC} is not built")


def mosquitto_tls(tmp_path, certs, *extra):
    # `user root`: started as root, mosquitto would otherwise switch to its own user before reading
    # the certificates, which live in pytest's private temporary directory.
    return mosquitto(tmp_path, f"cafile {certs.ca}", f"certfile {certs.server}", f"keyfile {certs.server_key}",
                     "user root", *extra)


def test_certifies_mosquitto_over_tls_with_its_ca(tmp_path, tls_certs):
    with mosquitto_tls(tmp_path, tls_certs) as target:
        status, verdicts, output = run(tmp_path, "--target", target, "--cafile", str(tls_certs.ca))
    assert_all_pass(status, verdicts, output)
    assert "over TLS" in output


def test_untrusted_broker_certificate_is_a_harness_error_not_a_verdict(tmp_path, tls_certs):
    with mosquitto_tls(tmp_path, tls_certs) as target:
        status, verdicts, output = run(tmp_path, "--target", target, "--cafile", str(tls_certs.other_ca))
    assert status == 2, output
    assert "certificate verify failed" in output
    assert "pass" not in verdicts.values()


def test_insecure_accepts_an_untrusted_certificate(tmp_path, tls_certs):
    with mosquitto_tls(tmp_path, tls_certs) as target:
        status, verdicts, output = run(tmp_path, "--target", target, "--cafile", str(tls_certs.other_ca), "--insecure")
    assert_all_pass(status, verdicts, output)


def test_plain_tcp_against_a_tls_listener_fails_without_hanging(tmp_path, tls_certs):
    with mosquitto_tls(tmp_path, tls_certs) as target:
        status, _, output = run(tmp_path, "--target", target, "--timeout-ms", "500")
    assert status != 0, output


def test_mutual_tls_client_certificate(tmp_path, tls_certs):
    with mosquitto_tls(tmp_path, tls_certs, "require_certificate true") as target:
        status, _, output = run(tmp_path, "--target", target, "--cafile", str(tls_certs.ca))
        assert status == 2, output  # the broker refuses the handshake without a client certificate
        status, verdicts, output = run(tmp_path, "--target", target, "--cafile", str(tls_certs.ca),
                                       "--cert", str(tls_certs.client), "--key", str(tls_certs.client_key))
    assert_all_pass(status, verdicts, output)


def test_reference_broker_tls_listener_with_client_certificates(tmp_path, tls_certs):
    if not BROKER.exists():
        pytest.skip(f"{BROKER} is not built")
    args = ["--tls-cert", str(tls_certs.server), "--tls-key", str(tls_certs.server_key),
            "--tls-client-ca", str(tls_certs.ca)]
    with reference_broker(*args) as target:
        status, verdicts, output = run(tmp_path, "--target", target, "--cafile", str(tls_certs.ca),
                                       "--cert", str(tls_certs.client), "--key", str(tls_certs.client_key))
        assert_all_pass(status, verdicts, output)
        status, _, output = run(tmp_path, "--target", target, "--cafile", str(tls_certs.ca))
        assert status == 2, output


def test_embedded_broker_over_tls(tmp_path):
    status, verdicts, output = run(tmp_path, "--tls")
    assert_all_pass(status, verdicts, output)
    assert "embedded reference broker" in output and "over TLS" in output


def test_broker_refuses_to_start_with_a_key_that_is_not_the_certificates(tls_certs):
    if not BROKER.exists():
        pytest.skip(f"{BROKER} is not built")
    proc = subprocess.run([str(BROKER), "--port", "0", "--tls-cert", str(tls_certs.server),
                           "--tls-key", str(tls_certs.client_key)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "key" in proc.stderr
