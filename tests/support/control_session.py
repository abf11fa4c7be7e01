# SPDX-License-Identifier: GPL-3.0-or-later
"""One IrisControl session on an instance named CTL, asserted live against the emulator (tests/integration) and
against its recording (tests/unit): the same assertions, so the recording cannot drift from what they check."""

from __future__ import annotations

import pytest

from ansible_collections.irisops.iris.plugins.module_utils.iris_control import Instance, IrisControl, IrisControlError


def check_control_session(control: IrisControl) -> Instance:
    """Lists, starts, restarts, forces, starts and stops CTL; returns the instance as it ran after the first start."""
    assert [instance.name for instance in control.qlist()] == ["CTL"]
    assert control.instance("ctl").running is False
    rc, out, _err = control.start("CTL")
    assert rc == 0 and "Starting CTL" in out
    started = control.instance("CTL")
    assert started.running and started.state == "ok" and started.since is not None
    rc, out, _err = control.stop("CTL", ("quietly", "restart"))
    assert rc == 0 and "Shutdown of CTL complete" in out and control.instance("CTL").running
    assert control.force("CTL")[0] == 0
    assert control.qlist("CTL")[0].status == "down"
    assert control.start("CTL", quietly=False)[0] == 0
    assert control.stop("CTL")[0] == 0
    with pytest.raises(IrisControlError, match="instance 'NOPE' is not known"):
        control.instance("NOPE")
    return started
