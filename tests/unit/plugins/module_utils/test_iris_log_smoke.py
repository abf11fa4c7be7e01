from ansible_collections.irisops.iris.plugins.module_utils import iris_log

def test_roundtrip():
    line = "08/11/21-04:38:13:440 (17808) 0 [Database.MountedRW] Mounted database /usr/irissys/mgr/user/ (SFN 5) read-write."
    e = iris_log.parse_header(line)
    assert e is not None and e.format() == line
