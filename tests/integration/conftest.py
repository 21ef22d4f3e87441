"""Fixtures for integration tests against the real kernel, in network namespaces.

See README.md in this directory. The machinery lives in ``_netns.py``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# Tests import the helpers as ``import _netns``; make that work in any --import-mode.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

import _netns


def pytest_sessionfinish(session):
    # Safety net: whatever a crashed fixture left behind from this process.
    if os.geteuid() == 0:
        _netns.cleanup_namespaces(own=True)


@pytest.fixture(scope="session", autouse=True)
def _hfw_session():
    if os.geteuid() != 0:
        pytest.fail("integration tests need root (they create network namespaces)", pytrace=False)
    yield
    _netns.cleanup_namespaces(own=True)


@pytest.fixture(scope="session")
def variant_bins(tmp_path_factory):
    """{'nft': dir, 'legacy': dir}: dirs of iptables* symlinks to prepend to PATH."""
    return _netns.make_variant_bins(tmp_path_factory.mktemp("variant-bin"))


@pytest.fixture(params=_netns.VARIANTS)
def variant(request):
    """'nft' or 'legacy'. Request it (or parametrize it) to run a test once per
    variant; every namespace the test gets then uses that variant."""
    return request.param


@pytest.fixture
def netns_factory(request, variant_bins, tmp_path):
    """``make(variant=None) -> Netns``; all made namespaces go away after the test.

    The default variant is the test's ``variant`` if it uses one, else 'nft'.
    """
    made: list[_netns.Netns] = []

    def make(variant: str | None = None) -> _netns.Netns:
        if variant is None:
            uses = "variant" in request.fixturenames
            variant = request.getfixturevalue("variant") if uses else "nft"
        workdir = tmp_path / f"ns{len(made) + 1}"
        workdir.mkdir()
        ns = _netns.Netns(variant, variant_bins[variant], workdir)
        made.append(ns)
        return ns

    yield make
    for ns in reversed(made):
        ns.close()


@pytest.fixture
def netns(netns_factory):
    """A fresh network namespace (loopback up), removed after the test."""
    return netns_factory()


@pytest.fixture
def netpair(netns_factory):
    """(server, client): two namespaces joined by a veth pair.

    server 192.0.2.1/24 + 2001:db8::1/64, client 192.0.2.2/24 + 2001:db8::2/64
    (``ns.addr('ipv4'|'ipv6')``).
    """
    server, client = netns_factory(), netns_factory()
    _netns.connect_pair(server, client)
    return server, client


@pytest.fixture
def run_playbook():
    """``run_playbook(ns, tasks, check=False, diff=False, extra_vars=None) -> [dict]``."""
    return _netns.run_playbook


@pytest.fixture
def run_module():
    """``run_module(ns, module_name, args, check=False, diff=False) -> dict``."""
    return _netns.run_module
