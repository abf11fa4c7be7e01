# SPDX-License-Identifier: GPL-3.0-or-later
"""Offline stand-in for pip's get-pip.py, used by ansible-test when it bootstraps pip in its venvs.

It installs pip from the interpreter's bundled wheel (ensurepip) and then runs pip with the
arguments ansible-test passed, minus the get-pip-only flags.
"""
import subprocess
import sys

GET_PIP_ONLY_FLAGS = {"--no-setuptools", "--no-wheel", "--no-pip"}

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
forwarded = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_FLAGS]
if forwarded:
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + forwarded)
