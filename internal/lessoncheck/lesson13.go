package lessoncheck

import (
	"fmt"
	"path/filepath"
	"strings"

	"mini-docker/internal/cli"
	"mini-docker/internal/lessoncheck/probe"
	"mini-docker/mini-docker/volume/local"
)

// checks1301 are exercise 13.1's checks.
func checks1301(s *State) []Check {
	vols := &local.Store{Root: cli.StateRoot()}
	return []Check{
		{What: "a volume exvol exists", Cmd: "mini-docker volume inspect exvol",
			Hint: "mini-docker volume create exvol",
			Test: func() error { _, err := vols.Get("exvol"); return err }},
		{What: "its folder holds a file note that says kept", Cmd: "cat " + filepath.Join(vols.Data("exvol"), "note"),
			Hint: "a container that is gone wrote it: mini-docker run --rm -v exvol:/data IMAGE sh -c 'echo kept > /data/note'",
			Test: func() error { return probe.FileIs(filepath.Join(vols.Data("exvol"), "note"), "kept") }},
		{What: "a container ex-reader is running", Cmd: "mini-docker ps --filter name=ex-reader",
			Hint: "mini-docker run -d --name ex-reader -v exvol:/data:ro IMAGE sleep 300",
			Test: func() error { _, err := probe.Running("ex-reader"); return err }},
		{What: "its /data is the volume's folder, bound", Cmd: "grep ' /data ' /proc/PID/mountinfo",
			Hint: "-v exvol:/data (a NAME, not a path, before the colon: a named volume)",
			Test: probe.OnMount("ex-reader", "/data", func(m probe.Mount) error {
				if !strings.HasSuffix(m.Root, "/volumes/exvol/_data") {
					return fmt.Errorf("the folder bound there is %s", m.Root)
				}
				return nil
			})},
		{What: "it is read-only there", Cmd: "grep ' /data ' /proc/PID/mountinfo",
			Hint: "-v exvol:/data:ro",
			Test: probe.OnMount("ex-reader", "/data", func(m probe.Mount) error {
				if !probe.HasOpt(m.Opts, "ro") {
					return fmt.Errorf("it is mounted %s", m.Opts)
				}
				return nil
			})},
	}
}

// checks1302 are exercise 13.2's checks.
func checks1302(s *State) []Check {
	return []Check{
		{What: "a container ex-tmp is running", Cmd: "mini-docker ps --filter name=ex-tmp",
			Hint: "mini-docker run -d --name ex-tmp --tmpfs /scratch:size=8m IMAGE sleep 300",
			Test: func() error { _, err := probe.Running("ex-tmp"); return err }},
		{What: "its /scratch is a tmpfs of 8 MiB", Cmd: "grep ' /scratch ' /proc/PID/mountinfo",
			Hint: "--tmpfs /scratch:size=8m",
			Test: probe.OnMount("ex-tmp", "/scratch", func(m probe.Mount) error {
				if m.FSType != "tmpfs" || probe.OptValue(m.Super, "size") != "8192k" {
					return fmt.Errorf("it is %s, %s", m.FSType, m.Super)
				}
				return nil
			})},
		{What: "its /srv/hello.txt is your hello.txt, copied in", Cmd: "cmp hello.txt /proc/PID/root/srv/hello.txt",
			Hint: "echo hi > hello.txt; mini-docker cp hello.txt ex-tmp:/srv/",
			Test: probe.InContainer("ex-tmp", func(pid int) error {
				return sameContent(s.Path("hello.txt"), fmt.Sprintf("/proc/%d/root/srv/hello.txt", pid))
			})},
		{What: "ex-hostname in your folder holds ex-tmp's host name, copied out", Cmd: "cat ex-hostname",
			Hint: "mini-docker cp ex-tmp:/etc/hostname ex-hostname",
			Test: probe.InContainer("ex-tmp", func(pid int) error {
				name, err := probe.HostnameOf(pid)
				if err != nil {
					return err
				}
				return probe.FileIs(s.Path("ex-hostname"), name)
			})},
	}
}
