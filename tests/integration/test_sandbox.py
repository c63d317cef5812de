"""Confinement as the kernel enforces it: `redoubt sandbox-probe` applies
a role's real sandbox (and, as root, its user drop) and then tries to open
a file. "refused:" + exit 0 means the kernel said no; "opened" + exit 1
is the control showing what the role may reach."""
import os

import pytest

from helpers import ALICE, BOB, FRONT_ROLES, IS_ROOT, run

# what `serve` drops each role to when started as root
RUN_AS = {"smtp-in": "redoubt-front", "imap-login": "redoubt-front",
          "http-front": "redoubt-front", "worker": "redoubt", "auth": "redoubt"}


def probe(role, path, data=None, store=None, drop=True):
    args = ["sandbox-probe", "--role", role, "--try-open", path]
    if data:
        args += ["--data", data.path]
    if store:
        args += ["--store", store]
    if drop and IS_ROOT:
        args += ["--user", RUN_AS[role]]
    return run(*args)


def assert_refused(r):
    assert r.stdout.startswith("refused:"), (r.stdout, r.stderr)
    assert r.returncode == 0


def assert_opened(r):
    assert r.stdout.strip() == "opened", (r.stdout, r.stderr)
    assert r.returncode == 1


@pytest.mark.parametrize("role", FRONT_ROLES)
def test_front_cannot_open_world_readable_system_file(role):
    assert os.access("/etc/hostname", os.R_OK)
    assert_refused(probe(role, "/etc/hostname"))


@pytest.mark.parametrize("role", FRONT_ROLES)
def test_front_cannot_open_data_dir_file_even_as_root(role, shared_data):
    # without the user drop, root could open redoubt.conf: only the
    # sandbox stands in the way
    assert_refused(probe(role, shared_data.conf, drop=False))


@pytest.mark.parametrize("role", FRONT_ROLES)
def test_front_cannot_open_user_store(role, shared_data):
    index = os.path.join(shared_data.path, "stores", shared_data.stores[ALICE], "index.db")
    assert_refused(probe(role, index))


def test_worker_opens_its_own_store(shared_data):
    alice = shared_data.stores[ALICE]
    index = os.path.join(shared_data.path, "stores", alice, "index.db")
    assert_opened(probe("worker", index, data=shared_data, store=alice))


def test_worker_cannot_open_another_users_store(shared_data):
    alice, bob = shared_data.stores[ALICE], shared_data.stores[BOB]
    assert alice != bob
    index = os.path.join(shared_data.path, "stores", bob, "index.db")
    assert_refused(probe("worker", index, data=shared_data, store=alice))


def test_worker_cannot_open_credentials_or_config(shared_data):
    alice = shared_data.stores[ALICE]
    for path in (os.path.join(shared_data.path, "auth", "accounts.db"), shared_data.conf,
                 "/etc/hostname"):
        assert_refused(probe("worker", path, data=shared_data, store=alice))


@pytest.mark.skipif(not IS_ROOT, reason="the user drop needs root")
def test_user_drop_is_real(shared_data):
    # the store file is 0600 redoubt: the same confined worker dropped to
    # another uid is refused, so the "opened" control above ran as redoubt
    alice = shared_data.stores[ALICE]
    index = os.path.join(shared_data.path, "stores", alice, "index.db")
    st = os.stat(index)
    assert st.st_mode & 0o077 == 0 and st.st_uid != 0
    r = run("sandbox-probe", "--role", "worker", "--data", shared_data.path, "--store", alice,
            "--user", "redoubt-front", "--try-open", index)
    assert_refused(r)


def test_probe_refuses_bad_store_id(shared_data):
    r = run("sandbox-probe", "--role", "worker", "--data", shared_data.path,
            "--store", "../" + shared_data.stores[BOB], "--try-open", "/etc/hostname")
    assert r.returncode == 2
    assert "opened" not in r.stdout
