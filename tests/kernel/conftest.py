"""Make `ansible_collections.hostfw.netfilter` importable from the working tree (as
tests/unit/conftest.py does): the kernel tests import the collection and the shared
helpers, tests/fixtures/ and tests/kernel/_kernel.py, through it."""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LINK = os.path.join(ROOT, "build", "collections")
link = os.path.join(LINK, "ansible_collections", "hostfw", "netfilter")
if not os.path.exists(link):
    os.makedirs(os.path.dirname(link), exist_ok=True)
    os.symlink(ROOT, link)
if LINK not in sys.path:
    sys.path.insert(0, LINK)
