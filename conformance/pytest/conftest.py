"""Options and fixtures shared by the pytest drivers (pytest reads options only from top-level
conftests)."""
import subprocess
import types

import pytest


def pytest_addoption(parser):
    parser.addoption(
        "--broker",
        default=None,
        metavar="HOST:PORT",
        help="certify this broker (one pytest item per scenario); default: the reference broker and mosquitto",
    )


@pytest.fixture(scope="session")
def tls_certs(tmp_path_factory):
    """A test PKI made with the openssl command: a CA, a server certificate it signs for localhost
    and 127.0.0.1, a client certificate it signs, and an unrelated CA that trusts neither."""
    d = tmp_path_factory.mktemp("pki")

    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True, timeout=60)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", *ec, "-keyout", f"{ca}.key", "-out", f"{ca}.pem", "-days", "2", "-subj", f"/CN=mqttspec {ca}")
    (d / "server.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    (d / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    for name in ("server", "client"):
        openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN=mqttspec {name}")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext")
    return types.SimpleNamespace(ca=d / "ca.pem", other_ca=d / "other-ca.pem", server=d / "server.pem",
                                 server_key=d / "server.key", client=d / "client.pem", client_key=d / "client.key")
