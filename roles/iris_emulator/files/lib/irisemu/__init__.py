# -*- coding: utf-8 -*-
# Copyright (c) 2026 irisops.iris contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""IRIS emulator: an ``iris`` control command and one small daemon per emulated instance.

Stdlib only, Python >= 3.9. The log format, the CPF model and the memory sizing come from the
collection's module_utils, copied next to this package at deploy time (lib/ansible_collections/...).
"""
