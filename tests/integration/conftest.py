"""Fixtures: data directories and running servers, always cleaned up.

`server` is one server for the whole session (alice and bob exist), for
tests that only talk to it. `fresh_server` is a private one for tests that
kill roles, reload or stop it. Both listen on free ports on 127.0.0.1 only.
"""
import os

import pytest

import helpers


def pytest_configure(config):
    assert os.access(helpers.BIN, os.X_OK), f"REDOUBT_BIN not executable: {helpers.BIN}"


def _make_data(users):
    d = helpers.DataDir()
    d.stores = {}
    try:
        for address, password in users:
            d.stores[address] = d.add_user(address, password)
    except BaseException:
        d.remove()
        raise
    return d


@pytest.fixture(scope="session")
def shared_data():
    d = _make_data([(helpers.ALICE, helpers.ALICE_PW), (helpers.BOB, helpers.BOB_PW)])
    yield d
    d.remove()


@pytest.fixture(scope="session")
def server(shared_data):
    s = helpers.Server(shared_data)
    yield s
    rc = s.stop()
    assert rc == 0, "shared server did not exit 0 at SIGTERM:\n" + s.log()[-3000:]
    assert "role_crashed" not in s.log(), "a role crashed during the session:\n" + s.log()


@pytest.fixture
def fresh_data():
    d = _make_data([(helpers.ALICE, helpers.ALICE_PW)])
    yield d
    d.remove()


@pytest.fixture
def fresh_server(fresh_data):
    s = helpers.Server(fresh_data)
    yield s
    s.stop()
