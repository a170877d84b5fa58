"""Options shared by the pytest drivers (pytest reads options only from top-level conftests)."""


def pytest_addoption(parser):
    parser.addoption(
        "--broker",
        default=None,
        metavar="HOST:PORT",
        help="certify this broker (one pytest item per scenario); default: the reference broker and mosquitto",
    )
