"""run's ulimits, sysctls, shm size, extra groups, OOM score, devices and --pid/--ipc/
--uts as docker applies them, read from inside the container; bad values are refused at
create with docker's words and leave no container behind."""
from __future__ import annotations

import os

import pytest

pytestmark = pytest.mark.root


def test_settings_seen_from_inside(daemon):
    probe = ("ulimit -n; ulimit -Hn; cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax;"
             " df -k /dev/shm | tail -1 | awk '{print $2}'; id -G; cat /proc/self/oom_score_adj;"
             " ls -l /dev/mynull | awk '{print $1, $5, $6}'; echo x > /dev/mynull && echo wrote")
    r = daemon.cli("run", "--rm", "--ulimit", "nofile=256:512", "--sysctl",
                   "net.ipv4.ip_forward=1", "--sysctl", "kernel.shmmax=123456789",
                   "--shm-size", "32m", "--group-add", "10", "--group-add", "29",
                   "--oom-score-adj", "300", "--device", "/dev/null:/dev/mynull:rw",
                   "busybox", "sh", "-c", probe)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:-1] == ["256", "512", "1", "123456789", "32768", "0 10 29",
                                         "300", "crw-rw-rw- 1, 3", "wrote"]


def test_pid_ipc_uts_modes(daemon, ctr):
    d = daemon
    out = d.cli("run", "--rm", "--pid", "host", "busybox", "sh", "-c",
                f"test -d /proc/{os.getpid()} && echo sees-host", check=True).stdout
    assert out == "sees-host\n"
    out = d.cli("run", "--rm", "--uts", "host", "busybox", "hostname", check=True).stdout
    assert out.strip() == os.uname().nodename
    donor, private = ctr.name("donor"), ctr.name("private")
    d.cli("run", "-d", "--name", donor, "--ipc", "shareable", "--shm-size", "8m", "busybox",
          "sh", "-c", "echo from-donor > /dev/shm/note; exec sleep 1000", check=True)
    out = d.cli("run", "--rm", "--pid", f"container:{donor}", "--ipc", f"container:{donor}",
                "busybox", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo;"
                " cat /dev/shm/note; df -k /dev/shm | tail -1 | awk '{print $2}'",
                check=True).stdout
    assert [ln.strip() for ln in out.split("\n")[:3]] == ["sleep 1000", "from-donor", "8192"]
    d.cli("run", "-d", "--name", private, "busybox", "sleep", "1000", check=True)
    r = d.cli("run", "--rm", "--ipc", f"container:{private}", "busybox", "true")
    assert r.returncode != 0 and "non-shareable IPC (hint: use IpcMode:shareable" in r.stderr
    d.cli("stop", "-t", "0", donor, check=True)  # its /dev/shm is unmounted at exit
    donor_id = d.client.get(f"/containers/{donor}/json")["Id"]
    assert not [ln for ln in open("/proc/self/mountinfo") if f"{donor_id}/shm" in ln]
    out = d.cli("run", "--rm", "--ipc", "none", "busybox", "sh", "-c",
                "test -e /dev/shm || echo no-shm", check=True).stdout
    assert out == "no-shm\n"


def test_refusals_leave_nothing(daemon):
    before = daemon.cli("ps", "-aq", check=True).stdout
    for args, words in (
            (["--ulimit", "nofile=10:5"], "soft limit must be less than or equal to hard"),
            (["--sysctl", "kernel.hostname=x"], "sysctl 'kernel.hostname=x' is not allowed"),
            (["--network", "host", "--sysctl", "net.ipv4.ip_forward=1"],
             "not allowed in host network namespace"),
            (["--oom-score-adj", "2000"], "range for oom score adj is [-1000, 1000]"),
            (["--pid", "bogus"], "invalid PID mode: bogus"),
            (["--uts", "host", "-h", "named"], "Conflicting options: hostname and the UTS"),
            (["--device", "/dev/no-such-device"], "error gathering device information"),
            (["--group-add", "no-such-group"], "Unable to find group no-such-group")):
        r = daemon.cli("run", "--rm", *args, "busybox", "true")
        assert r.returncode == 125 and words in r.stderr, (args, r.stderr)
    assert daemon.cli("ps", "-aq", check=True).stdout == before


def test_volumes_from_and_dns_search(daemon, ctr, tmp_path):
    d = daemon
    donor, user = ctr.name("vdonor"), ctr.name("vuser")
    host_dir = tmp_path / "shared"
    host_dir.mkdir()
    d.cli("create", "--name", donor, "-v", "/data", "-v", f"{host_dir}:/bound", "busybox",
          "true", check=True)
    out = d.cli("run", "--name", user, "--volumes-from", f"{donor}:ro", "--dns-search",
                "example.test", "--dns-option", "ndots:2", "busybox", "sh", "-c",
                "touch /data/x 2>/dev/null || echo ro; ls /bound; grep -E '^(search|options)'"
                " /etc/resolv.conf", check=False)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split("\n")
    assert lines[0] == "ro"
    assert "search example.test" in lines and "options ndots:2" in lines, out.stdout
    info = d.client.get(f"/containers/{user}/json")
    mounts = {m["Destination"]: m for m in info["Mounts"]}
    donor_mounts = {m["Destination"]: m for m in d.client.get(f"/containers/{donor}/json")["Mounts"]}
    assert mounts["/data"]["Name"] == donor_mounts["/data"]["Name"] and not mounts["/data"]["RW"]
    assert mounts["/bound"]["Source"] == str(host_dir)
    # the shared anonymous volume outlives the donor's rm -v while the user holds it
    d.cli("rm", "-v", donor, check=True)
    assert d.client.get(f"/volumes/{mounts['/data']['Name']}")["Name"]
    r = d.cli("run", "--rm", "--volumes-from", "no-such-donor", "busybox", "true")
    assert r.returncode == 125 and "No such container: no-such-donor" in r.stderr
    d.cli("rm", "-v", user, check=True)
    r = d.client.get("/volumes")["Volumes"] or []
    assert mounts["/data"]["Name"] not in {v["Name"] for v in r}


def test_cidfile_label_file_attach_streams(daemon, ctr, tmp_path):
    d = daemon
    n = ctr.name("cid")
    cidfile, labels = tmp_path / "cid", tmp_path / "labels"
    labels.write_text("# comment\nteam=docs\n\nstage=dev\n")
    r = d.cli("run", "--name", n, "--cidfile", str(cidfile), "--label-file", str(labels),
              "-l", "stage=prod", "-a", "stderr", "busybox", "sh", "-c",
              "echo to-out; echo to-err >&2")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "to-err\n")
    info = d.client.get(f"/containers/{n}/json")
    assert cidfile.read_text() == info["Id"]
    assert info["Config"]["Labels"] == {"team": "docs", "stage": "prod"}
    r = d.cli("create", "--cidfile", str(cidfile), "busybox", "true")
    assert r.returncode == 125 and "Container ID file found" in r.stderr
    assert cidfile.read_text() == info["Id"]  # the other container's file is left alone
    gone = tmp_path / "gone"
    r = d.cli("create", "--pull", "never", "--cidfile", str(gone), "no-such-image-cid:1")
    assert r.returncode != 0 and not gone.exists()  # removed again when create fails
    r = d.cli("run", "-d", "-a", "stdout", "busybox", "true")
    assert r.returncode == 125 and "Conflicting options: -a and -d" in r.stderr
    r = d.cli("run", "-a", "stdsomething", "busybox", "true")
    assert r.returncode == 125 and "valid streams are STDIN, STDOUT and STDERR" in r.stderr
