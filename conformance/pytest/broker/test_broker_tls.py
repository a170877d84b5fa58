"""mqttspec-broker's TLS listener (--tls-cert, --tls-key, --tls-client-ca) with the mosquitto
command line clients, which bring their own TLS stack configuration and host name checks."""

import subprocess

import pytest

VERSIONS = [pytest.param(3, id="v311"), pytest.param(5, id="v5")]


def tls_args(certs, client_cert=False):
    args = ["--cafile", str(certs.ca)]
    if client_cert:
        args += ["--cert", str(certs.client), "--key", str(certs.client_key)]
    return args


@pytest.mark.parametrize("version", VERSIONS)
def test_messages_flow_over_tls(start_broker, mosquitto, tls_certs, version):
    """QoS 1 and 2 messages reach a TLS subscriber from a TLS publisher."""
    broker = start_broker("--tls-cert", str(tls_certs.server), "--tls-key", str(tls_certs.server_key))
    sub = mosquitto.sub(broker, version, "secure/#", qos=2, count=2, extra=tls_args(tls_certs))
    mosquitto.pub(broker, version, "secure/a", "one", qos=1, extra=tls_args(tls_certs))
    mosquitto.pub(broker, version, "secure/b", "two", qos=2, extra=tls_args(tls_certs))
    assert sub.messages() == [("secure/a", 1, 0, "", "one"), ("secure/b", 2, 0, "", "two")]


def test_plain_client_cannot_use_the_tls_port_and_the_broker_keeps_serving(start_broker, mosquitto, tls_certs):
    broker = start_broker("--tls-cert", str(tls_certs.server), "--tls-key", str(tls_certs.server_key))
    plain = mosquitto.pub(broker, 5, "secure/x", "in clear", qos=1, check=False)
    assert plain.returncode != 0
    untrusted = mosquitto.pub(broker, 5, "secure/x", "wrong ca", qos=1, extra=["--cafile", str(tls_certs.other_ca)],
                              check=False)
    assert untrusted.returncode != 0
    mosquitto.pub(broker, 5, "secure/x", "still fine", qos=1, extra=tls_args(tls_certs))
    assert broker.stop() == 0


def test_client_certificate_required_when_a_client_ca_is_given(start_broker, mosquitto, tls_certs):
    broker = start_broker("--tls-cert", str(tls_certs.server), "--tls-key", str(tls_certs.server_key),
                          "--tls-client-ca", str(tls_certs.ca))
    refused = mosquitto.pub(broker, 5, "mtls/x", "anonymous", qos=1, extra=tls_args(tls_certs), check=False)
    assert refused.returncode != 0
    sub = mosquitto.sub(broker, 5, "mtls/#", qos=1, extra=tls_args(tls_certs, client_cert=True))
    mosquitto.pub(broker, 5, "mtls/x", "identified", qos=1, extra=tls_args(tls_certs, client_cert=True))
    assert sub.messages() == [("mtls/x", 1, 0, "", "identified")]
