# -*- coding: utf-8 -*-
# Copyright: hostfw.netfilter contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of hostfw.netfilter.ruleset.

- ``src``: loads a YAML or JSON file of ``config`` on the controller (looked up
  like other file-taking actions: the role's ``files/``, then the playbook's
  directory), so thousands of rules never pass through Ansible's templating.
- Large configs (from ``src`` or inline ``config``) reach the module as a JSON
  file in the remote temporary directory instead of inside the module's
  arguments: a pipelined module is read by Python from standard input, which
  costs about 0.2 s per megabyte of arguments.

The module validates the rules exactly as it validates ``config``."""

from __future__ import annotations

import json

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

try:  # ansible-core 2.19+: the encoder Ansible itself uses for module arguments
    from ansible.module_utils.common.json import Direction, get_module_encoder

    _ENCODER = get_module_encoder("legacy", Direction.CONTROLLER_TO_MODULE)
except ImportError:  # ansible-core 2.16 - 2.18
    from ansible.module_utils.common.json import AnsibleJSONEncoder as _ENCODER

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml import SafeLoader as _Loader

import yaml

MODULE = "hostfw.netfilter.ruleset"
# Arguments larger than this (bytes of JSON) go to the host as a file.
FILE_THRESHOLD = 64 * 1024
REMOTE_NAME = "hostfw-ruleset-config.json"


def load_config_file(path):
    """The `config` list held by a YAML or JSON file (JSON is read much faster)."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        config = json.loads(data)
    except ValueError:
        try:
            config = yaml.load(data, Loader=_Loader)  # CSafeLoader/SafeLoader: safe
        except yaml.YAMLError as e:
            raise AnsibleActionFail("src: %s is neither JSON nor YAML: %s" % (path, e)) from e
    if isinstance(config, dict) and set(config) == {"config"}:
        config = config["config"]
    if not isinstance(config, list):
        raise AnsibleActionFail(
            "src: %s must hold a list of tables (the config format), or a mapping with the "
            "single key 'config'" % path
        )
    return config


class ActionModule(ActionBase):
    TRANSFERS_FILES = False  # only large configs are transferred, see run()

    def run(self, tmp=None, task_vars=None):
        del tmp  # unused
        result = super().run(task_vars=task_vars)
        args = dict(self._task.args)
        src = args.pop("src", None)
        text = None
        if src is not None:
            if args.get("config") is not None:
                raise AnsibleActionFail("parameters are mutually exclusive: config|src")
            try:
                path = self._find_needle("files", src)
            except Exception as e:  # AnsibleFileNotFound, with the places searched
                raise AnsibleActionFail("src: %s" % e) from e
            config = load_config_file(path)
            # plain JSON types: the C encoder is several times faster than Ansible's
            text = json.dumps(config, separators=(",", ":"))
            args["config"] = config
        config = args.get("config")
        if config is not None and not isinstance(config, str):
            if text is None:
                text = json.dumps(config, cls=_ENCODER, separators=(",", ":"))
            if len(text) > FILE_THRESHOLD:
                if self._connection._shell.tmpdir is None:
                    self._make_tmp_path()
                remote = self._connection._shell.join_path(
                    self._connection._shell.tmpdir, REMOTE_NAME
                )
                self._transfer_data(remote, text)
                self._fixup_perms2([remote], execute=False)
                del args["config"]
                args["src"] = remote
        result.update(
            self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars)
        )
        return result
