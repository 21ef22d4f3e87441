"""The controller side of hostfw.netfilter.ruleset (plugins/action/ruleset.py).

No host: the connection and its shell are fakes, and the ActionBase methods that
would reach a host (_execute_module, _transfer_data, _fixup_perms2,
_make_tmp_path) are mocks whose calls are asserted exactly."""

from __future__ import annotations

import json
import posixpath
import re
from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleActionFail, AnsibleFileNotFound
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext

from ansible_collections.hostfw.netfilter.plugins.action import ruleset as RULESET

REMOTE_TMP = "/home/admin/.ansible/tmp/ansible-tmp-1700000000.0-1-1"
REMOTE_FILE = REMOTE_TMP + "/" + RULESET.REMOTE_NAME
MODULE_RESULT = {"changed": True, "commands": {"ipv4": ["-A INPUT -j ACCEPT"]}}

CONFIG = [
    {
        "table": "filter",
        "chains": [
            {
                "name": "INPUT",
                "policy": "DROP",
                "rules": [
                    {"name": "loopback", "in_interface": "lo", "jump": "ACCEPT"},
                    {"name": "ssh", "protocol": "tcp", "destination_port": 22, "jump": "ACCEPT"},
                ],
            }
        ],
    }
]

CONFIG_YAML = """\
# the INPUT policy of the lab hosts
- table: filter
  chains:
    - name: INPUT
      policy: DROP
      rules:
        - {name: loopback, in_interface: lo, jump: ACCEPT}
        - name: ssh
          protocol: tcp
          destination_port: 22
          jump: ACCEPT
"""


def big_config(n_rules=2000):
    """A config whose compact JSON is well above FILE_THRESHOLD."""
    rules = [
        {
            "name": "allow-%05d" % i,
            "protocol": "tcp",
            "destination_port": 1024 + i,
            "source": "198.51.100.%d/32" % (i % 250),
            "jump": "ACCEPT",
        }
        for i in range(n_rules)
    ]
    config = [{"table": "filter", "chains": [{"name": "INPUT", "rules": rules}]}]
    assert len(compact(config)) > RULESET.FILE_THRESHOLD
    return config


def compact(config):
    return json.dumps(config, separators=(",", ":"))


def sized_config(size):
    """A config whose compact JSON is exactly `size` bytes."""
    config = [{"table": "filter", "comment": ""}]
    config[0]["comment"] = "x" * (size - len(compact(config)))
    assert len(compact(config)) == size
    return config


# --------------------------------------------------------------------------
# load_config_file
# --------------------------------------------------------------------------


def test_load_json_file_uses_json_not_yaml(tmp_path, monkeypatch):
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(CONFIG, indent=2))

    def no_yaml(*args, **kwargs):
        raise AssertionError("a JSON file must not go through the YAML parser")

    monkeypatch.setattr(RULESET.yaml, "load", no_yaml)
    assert RULESET.load_config_file(str(path)) == CONFIG


def test_load_yaml_file(tmp_path):
    path = tmp_path / "rules.yml"
    path.write_text(CONFIG_YAML)
    assert RULESET.load_config_file(str(path)) == CONFIG


def test_load_yaml_is_safe(tmp_path):
    path = tmp_path / "evil.yml"
    path.write_text("- !!python/object/apply:os.system ['true']\n")
    with pytest.raises(AnsibleActionFail, match=r"is neither JSON nor YAML"):
        RULESET.load_config_file(str(path))


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "config:\n" + "".join("  " + line + "\n" for line in CONFIG_YAML.splitlines()),
            id="yaml",
        ),
        pytest.param(json.dumps({"config": CONFIG}), id="json"),
    ],
)
def test_load_config_mapping(tmp_path, text):
    path = tmp_path / "rules.yml"
    path.write_text(text)
    assert RULESET.load_config_file(str(path)) == CONFIG


def test_load_neither_json_nor_yaml(tmp_path):
    path = tmp_path / "broken.yml"
    path.write_text("- table: filter\n  chains: [\n    {name: INPUT\n")
    with pytest.raises(AnsibleActionFail) as exc:
        RULESET.load_config_file(str(path))
    msg = exc.value.message
    assert msg.startswith("src: %s is neither JSON nor YAML: " % path), msg
    # the YAML parser's own explanation follows, with a line number
    assert "line" in msg[len("src: %s is neither JSON nor YAML: " % path) :]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("42\n", id="scalar"),
        pytest.param('"filter"', id="json-string"),
        pytest.param("", id="empty-file"),
        pytest.param("table: filter\nchains: []\n", id="one-table-not-in-a-list"),
        pytest.param('{"config": {"table": "filter"}}', id="config-not-a-list"),
        pytest.param(
            json.dumps({"config": CONFIG, "state": "replaced"}), id="mapping-with-extra-keys"
        ),
        pytest.param("{}", id="empty-mapping"),
    ],
)
def test_load_not_a_list(tmp_path, text):
    path = tmp_path / "rules.yml"
    path.write_text(text)
    expected = (
        "src: %s must hold a list of tables (the config format), or a mapping with the "
        "single key 'config'" % path
    )
    with pytest.raises(AnsibleActionFail, match="^%s$" % re.escape(expected)):
        RULESET.load_config_file(str(path))


# --------------------------------------------------------------------------
# ActionModule.run
# --------------------------------------------------------------------------


class FakeShell:
    """What the action uses of a shell plugin: tmpdir and join_path."""

    def __init__(self, tmpdir=None):
        self.tmpdir = tmpdir

    def join_path(self, *parts):
        return posixpath.join(*parts)


def make_action(args, tmpdir=None, loader=None, search_path=None):
    """An ActionModule built like ansible-core 2.19's TaskExecutor does, with fakes."""
    task = MagicMock()
    task.args = args
    task.action = RULESET.MODULE
    task.async_val = 0
    task.check_mode = False
    task.get_search_path.return_value = search_path or []
    connection = MagicMock()
    connection._shell = FakeShell(tmpdir)
    action = RULESET.ActionModule(
        task=task,
        connection=connection,
        play_context=PlayContext(),
        loader=loader or MagicMock(),
        templar=MagicMock(),
        shared_loader_obj=None,
    )
    action._execute_module = MagicMock(return_value=dict(MODULE_RESULT))
    action._transfer_data = MagicMock(return_value=REMOTE_FILE)
    action._fixup_perms2 = MagicMock()

    def make_tmp_path(remote_user=None):
        connection._shell.tmpdir = REMOTE_TMP
        return REMOTE_TMP

    action._make_tmp_path = MagicMock(side_effect=make_tmp_path)
    return action


def assert_nothing_transferred(action):
    action._make_tmp_path.assert_not_called()
    action._transfer_data.assert_not_called()
    action._fixup_perms2.assert_not_called()


def test_run_src_small_config_reaches_module_as_config(tmp_path):
    path = tmp_path / "rules.yml"
    path.write_text(CONFIG_YAML)
    args = {"src": "rules.yml", "state": "replaced", "ignore": ["^DOCKER"]}
    action = make_action(dict(args))
    action._find_needle = MagicMock(return_value=str(path))
    task_vars = {"inventory_hostname": "fw1"}

    result = action.run(task_vars=task_vars)

    action._find_needle.assert_called_once_with("files", "rules.yml")
    action._execute_module.assert_called_once_with(
        module_name="hostfw.netfilter.ruleset",
        module_args={"config": CONFIG, "state": "replaced", "ignore": ["^DOCKER"]},
        task_vars=task_vars,
    )
    assert_nothing_transferred(action)
    assert result == MODULE_RESULT
    assert action._task.args == args  # the task's own args are left alone


def test_run_src_found_in_files_dir_by_real_lookup(tmp_path):
    """No mocked _find_needle: the real lookup finds `files/<src>` on the search path."""
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "rules.json").write_text(json.dumps({"config": CONFIG}))
    action = make_action({"src": "rules.json"}, loader=DataLoader(), search_path=[str(tmp_path)])

    action.run(task_vars={})

    action._execute_module.assert_called_once_with(
        module_name="hostfw.netfilter.ruleset", module_args={"config": CONFIG}, task_vars={}
    )
    assert_nothing_transferred(action)


def test_run_src_big_config_goes_as_file(tmp_path):
    config = big_config()
    path = tmp_path / "big.json"
    path.write_text(json.dumps(config))
    action = make_action({"src": "big.json", "state": "overridden"})
    action._find_needle = MagicMock(return_value=str(path))

    result = action.run(task_vars={})

    action._make_tmp_path.assert_called_once_with()
    action._transfer_data.assert_called_once()
    remote, text = action._transfer_data.call_args.args
    assert remote == REMOTE_FILE
    assert json.loads(text) == config
    assert text == compact(config)
    action._fixup_perms2.assert_called_once_with([REMOTE_FILE], execute=False)
    action._execute_module.assert_called_once_with(
        module_name="hostfw.netfilter.ruleset",
        module_args={"src": REMOTE_FILE, "state": "overridden"},
        task_vars={},
    )
    assert result == MODULE_RESULT


def test_run_inline_big_config_goes_as_file_into_existing_tmpdir():
    config = big_config()
    args = {"config": config, "state": "merged"}
    action = make_action(dict(args), tmpdir=REMOTE_TMP)

    action.run(task_vars={})

    action._make_tmp_path.assert_not_called()  # the tmpdir already there is reused
    action._transfer_data.assert_called_once()
    remote, text = action._transfer_data.call_args.args
    assert remote == REMOTE_FILE
    assert json.loads(text) == config
    action._fixup_perms2.assert_called_once_with([REMOTE_FILE], execute=False)
    action._execute_module.assert_called_once_with(
        module_name="hostfw.netfilter.ruleset",
        module_args={"src": REMOTE_FILE, "state": "merged"},
        task_vars={},
    )
    assert action._task.args == args


def test_run_inline_small_config_stays_inline():
    args = {"config": CONFIG, "state": "merged"}
    action = make_action(dict(args))

    action.run(task_vars={})

    action._execute_module.assert_called_once_with(
        module_name="hostfw.netfilter.ruleset", module_args=args, task_vars={}
    )
    assert_nothing_transferred(action)


@pytest.mark.parametrize(
    ("size", "as_file"),
    [(RULESET.FILE_THRESHOLD, False), (RULESET.FILE_THRESHOLD + 1, True)],
    ids=["at-threshold-inline", "above-threshold-file"],
)
def test_run_threshold_is_strictly_greater(size, as_file):
    config = sized_config(size)
    action = make_action({"config": config})

    action.run(task_vars={})

    expected = {"src": REMOTE_FILE} if as_file else {"config": config}
    action._execute_module.assert_called_once_with(
        module_name="hostfw.netfilter.ruleset", module_args=expected, task_vars={}
    )
    assert action._transfer_data.call_count == (1 if as_file else 0)


def test_run_string_config_is_left_to_the_module():
    """An unparsed (string) config is the module's to validate, however big."""
    text = compact(big_config())
    action = make_action({"config": text})

    action.run(task_vars={})

    action._execute_module.assert_called_once_with(
        module_name="hostfw.netfilter.ruleset", module_args={"config": text}, task_vars={}
    )
    assert_nothing_transferred(action)


def test_run_src_and_config_mutually_exclusive():
    action = make_action({"src": "rules.yml", "config": CONFIG})
    action._find_needle = MagicMock()

    with pytest.raises(AnsibleActionFail) as exc:
        action.run(task_vars={})

    assert exc.value.message == "parameters are mutually exclusive: config|src"
    action._find_needle.assert_not_called()
    action._execute_module.assert_not_called()
    assert_nothing_transferred(action)


def test_run_missing_src_mocked_lookup():
    action = make_action({"src": "missing.yml"})
    action._find_needle = MagicMock(
        side_effect=AnsibleFileNotFound(file_name="missing.yml", paths=["/play/files", "/play"])
    )

    with pytest.raises(AnsibleActionFail) as exc:
        action.run(task_vars={})

    msg = exc.value.message
    assert msg.startswith("src: "), msg
    assert "missing.yml" in msg
    assert isinstance(exc.value.__cause__, AnsibleFileNotFound)
    action._find_needle.assert_called_once_with("files", "missing.yml")
    action._execute_module.assert_not_called()
    assert_nothing_transferred(action)


def test_run_missing_src_real_lookup(tmp_path):
    action = make_action({"src": "missing.yml"}, loader=DataLoader(), search_path=[str(tmp_path)])

    with pytest.raises(AnsibleActionFail) as exc:
        action.run(task_vars={})

    msg = exc.value.message
    assert msg.startswith("src: "), msg
    assert "missing.yml" in msg
    action._execute_module.assert_not_called()


def test_run_bad_src_file_fails_before_module(tmp_path):
    path = tmp_path / "rules.yml"
    path.write_text("table: filter\n")
    action = make_action({"src": "rules.yml"})
    action._find_needle = MagicMock(return_value=str(path))

    with pytest.raises(AnsibleActionFail, match=r"^src: .* must hold a list of tables"):
        action.run(task_vars={})

    action._execute_module.assert_not_called()
    assert_nothing_transferred(action)
