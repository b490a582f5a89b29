from __future__ import annotations

import os
import sys

import pytest

import helpers
from helpers.lab import machine


@pytest.mark.parametrize(
    ("text", "expected"),
    [("max 100000", None), ("200000 100000", 2.0), ("150000 100000", 1.5), ("50000 100000", 0.5)],
)
def test_cgroup_v2_quota(tmp_path, text, expected):
    (tmp_path / "cpu.max").write_text(text + "\n")
    assert machine.cgroup_cpu_quota(tmp_path) == expected


@pytest.mark.parametrize("folder", ["cpu", "cpu,cpuacct"])
def test_cgroup_v1_quota(tmp_path, folder):
    (tmp_path / folder).mkdir()
    (tmp_path / folder / "cpu.cfs_quota_us").write_text("300000\n")
    (tmp_path / folder / "cpu.cfs_period_us").write_text("100000\n")
    assert machine.cgroup_cpu_quota(tmp_path) == 3.0


def test_cgroup_v1_unlimited_and_no_cgroup(tmp_path):
    assert machine.cgroup_cpu_quota(tmp_path) is None
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert machine.cgroup_cpu_quota(tmp_path) is None


def test_effective_cpus_honours_quota_rounding_up(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    monkeypatch.setattr(machine, "process_cpus", lambda: 64)
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert machine.effective_cpus(tmp_path) == 2
    (tmp_path / "cpu.max").write_text("50000 100000\n")
    assert machine.effective_cpus(tmp_path) == 1


def test_effective_cpus_honours_affinity(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    monkeypatch.setattr(machine, "process_cpus", lambda: 3)
    assert machine.effective_cpus(tmp_path) == 3


def test_effective_cpus_when_nothing_is_known(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    monkeypatch.setattr(machine, "process_cpus", lambda: None)
    assert machine.effective_cpus(tmp_path) == 1


def test_effective_cpus_on_this_machine_is_sane():
    assert 1 <= helpers.effective_cpus() <= os.cpu_count()


@pytest.mark.parametrize(
    ("platform", "version", "expected"),
    [("linux", (3, 10), "fork"), ("linux", (3, 13), "fork"), ("linux", (3, 14), "forkserver"),
     ("linux", (3, 15), "forkserver"), ("darwin", (3, 13), "spawn"), ("win32", (3, 10), "spawn"),
     ("freebsd14", (3, 14), "forkserver")],
)
def test_default_start_method(platform, version, expected):
    assert machine.default_start_method(platform, version) == expected


def test_default_start_method_rejects_a_bad_version():
    with pytest.raises(TypeError, match="version must be"):
        machine.default_start_method("linux", 3.14)


def test_machine_report_has_every_count():
    report = machine.machine_report()
    for key in ("os.cpu_count()", "CPUs in affinity mask", "os.process_cpu_count()",
                "cgroup CPU quota", "helpers.effective_cpus()", "Default start method here"):
        assert key in report
    assert report["Threads in this process (OS)"] >= 1


def test_check_pool_size(capsys):
    assert machine.check_pool_size(helpers.effective_cpus()) is True
    assert machine.check_pool_size(helpers.effective_cpus() + 100) is False
    assert machine.check_pool_size(True) is False
    assert "Not quite" in capsys.readouterr().out


def test_machine_label_names_python_cpus_system_and_method():
    import platform

    label = machine.machine_label("spawn")
    assert label.startswith(f"Python {platform.python_version()}, {machine.effective_cpus()} CPU")
    assert platform.system() in label
    assert label.endswith(", spawn") and "spawn" not in machine.machine_label()


def fake_cgroup(monkeypatch, tmp_path, lines):
    """Point machine at a fake /proc/self/cgroup saying this process is in ``lines``' cgroups."""
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text("".join(line + "\n" for line in lines))
    monkeypatch.setattr(machine, "PROC_SELF_CGROUP", proc)
    root = tmp_path / "cgroup"
    root.mkdir()
    return root


def test_cgroup_v2_quota_on_a_parent_of_this_process_cgroup(tmp_path, monkeypatch):
    """systemd's CPUQuota= on a slice, or Slurm: the quota is on a cgroup above the process's own."""
    root = fake_cgroup(monkeypatch, tmp_path, ["0::/system.slice/job.slice/job-1.scope"])
    own = root / "system.slice" / "job.slice" / "job-1.scope"
    own.mkdir(parents=True)
    (own / "cpu.max").write_text("max 100000\n")
    (own.parent / "cpu.max").write_text("200000 100000\n")  # job.slice: 2 CPUs
    (root / "system.slice" / "cpu.max").write_text("max 100000\n")
    (root / "other.slice").mkdir()
    (root / "other.slice" / "cpu.max").write_text("50000 100000\n")  # not this process's: ignored
    assert machine.cgroup_cpu_quota(root) == 2.0
    (own / "cpu.max").write_text("150000 100000\n")  # the tightest quota on the way up wins
    assert machine.cgroup_cpu_quota(root) == 1.5
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    monkeypatch.setattr(machine, "process_cpus", lambda: 64)
    assert machine.effective_cpus(root) == 2


def test_cgroup_v1_quota_on_a_parent_of_this_process_cgroup(tmp_path, monkeypatch):
    root = fake_cgroup(monkeypatch, tmp_path, ["5:memory:/elsewhere", "4:cpu,cpuacct:/slurm/uid_1/job_7"])
    job = root / "cpu,cpuacct" / "slurm" / "uid_1" / "job_7"
    job.mkdir(parents=True)
    for folder, quota in ((job, "-1"), (job.parent, "300000"), (root / "cpu,cpuacct", "-1")):
        (folder / "cpu.cfs_quota_us").write_text(quota + "\n")
        (folder / "cpu.cfs_period_us").write_text("100000\n")
    assert machine.cgroup_cpu_quota(root) == 3.0


def test_cgroup_quota_when_this_process_cgroup_is_not_below_root(tmp_path, monkeypatch):
    """In a container without its own cgroup namespace the named path is not there: the root's quota counts."""
    root = fake_cgroup(monkeypatch, tmp_path, ["0::/docker/0123abc"])
    (root / "cpu.max").write_text("100000 100000\n")
    assert machine.cgroup_cpu_quota(root) == 1.0


def test_default_start_method_agrees_with_this_python():
    """What a fresh interpreter (no set_start_method) really uses, on every Python of the matrix."""
    import subprocess

    fresh = subprocess.run(
        [sys.executable, "-c", "import multiprocessing as m; print(m.get_start_method())"],
        capture_output=True, text=True, timeout=60, check=True,
    )
    assert fresh.stdout.strip() == machine.default_start_method()


def test_a_missing_writable_tempdir_means_spawn_from_3_14_9():
    assert machine.default_start_method("linux", (3, 14, 9), True, writable_tempdir=False) == "spawn"
    assert machine.default_start_method("linux", (3, 14, 8), True, writable_tempdir=False) == "forkserver"
    assert machine.default_start_method("linux", (3, 14, 9), True, writable_tempdir=True) == "forkserver"


def test_load_note_warns_only_on_a_busy_machine_and_names_the_effect(monkeypatch):
    monkeypatch.setattr(machine.os, "getloadavg", lambda: (0.2, 0.2, 0.2), raising=False)
    assert machine.load_note(2) is None
    assert machine.load_label(2) == "1-minute load average 0.20 on 2 CPUs"
    monkeypatch.setattr(machine.os, "getloadavg", lambda: (3.0, 1.0, 1.0), raising=False)
    note = machine.load_note(2)
    assert "load average is 3.00 on 2 effective CPU(s)" in note and "speedups" in note and "lower" in note
    note = machine.load_note(1, effect="start costs measured now may be higher")
    assert note.endswith("so start costs measured now may be higher.") and "speedups" not in note


def test_load_note_and_label_without_a_load_average(monkeypatch):
    monkeypatch.delattr(machine.os, "getloadavg", raising=False)  # as on Windows
    assert machine.load_note(2) is None
    assert machine.load_label(2) == "load average unknown"
