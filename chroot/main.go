// Command chroot runs a command with another directory as its root: the
// classic chroot(2), or, with --pivot, the way a container runtime does it
// (a mount namespace of its own, Docker's mounts, pivot_root). Lesson 01.
//
// Lesson 01 (lessons/01-chroot.md) teaches it.
package main

import (
	"fmt"
	"os"
	"strings"

	"mini-docker/chroot/jail"
	"mini-docker/internal/cli"
)

const tool = "chroot"

// commands is chroot's top level: `chroot prepare ...`, or else the jail
// itself, whose flags answer --help.
var commands = cli.Dispatcher{
	Tool:     tool,
	Commands: []cli.Subcommand{{Name: "prepare", Run: prepare}},
	Default:  run,
}

func main() { cli.Main(tool, commands.Run) }

func run(args []string) error {
	var o jail.Options
	var pivot, docker bool
	f := cli.NewFlags(cli.Command{
		Tool:  tool,
		Usage: "[--pivot [mount flags]] ROOTFS [--] [CMD [ARGS...]]\n       chroot prepare ROOTFS BINARY...",
		Summary: "Run CMD (default /bin/sh -i) with ROOTFS as its root directory.\n" +
			"Without --pivot: chroot(2) + chdir(\"/\") + exec, like the classic tool (escapable).\n" +
			"With --pivot: a new mount namespace, / made private, ROOTFS bound on itself,\n" +
			"the requested mounts, pivot_root, the old root detached, then exec.\n" +
			"Flags may come before or after ROOTFS; use -- before CMD when it has flags.",
		Examples: []string{
			"chroot prepare ./jail /bin/sh ls cat     # copy binaries and their libraries",
			"chroot ./jail /bin/sh -c 'ls /'",
			"chroot --pivot ./rootfs --proc --dev -- ps",
			"chroot --pivot ./rootfs --docker --bind ./hosts:/etc/hosts:ro --workdir /tmp -- sh",
			"chroot --pivot ./rootfs --docker --bind /srv/data:/data:ro,rslave --tmpfs /run:size=1m,mode=755 -- sh",
			"chroot --pivot ./rootfs --docker --privileged -- sh   # as docker run --privileged",
		},
	})
	f.BoolVar(&pivot, "pivot", false, "pivot_root in a new mount namespace instead of chroot(2)")
	f.BoolVar(&docker, "docker", false, "Docker's default mounts, masked and read-only paths (implies the flags below)")
	binds := defineMountFlags(f, &o)

	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	rest := f.Args()
	if len(rest) == 0 {
		return cli.Usagef(tool, "no ROOTFS given")
	}
	o.Root = rest[0]
	// Flags may also follow ROOTFS (the composition chain writes
	// `chroot --pivot MERGED --docker --bind ... -- CMD`).
	if err := f.Parse(rest[1:]); err != nil {
		return cli.Done(err)
	}
	o.Argv = f.Args()
	if len(o.Argv) == 0 {
		o.Argv = []string{"/bin/sh", "-i"}
	}
	o.Env = os.Environ()
	for _, b := range *binds {
		bind, err := parseBind(b)
		if err != nil {
			return err
		}
		o.Binds = append(o.Binds, bind)
	}
	if docker {
		o.Docker()
	}
	if o.Shm != "" {
		if _, err := jail.ShmBytes(o.Shm); err != nil {
			return cli.Usagef(tool, "--shm: %v", err)
		}
	}
	ex := f.Explainer()
	if !pivot {
		if used := mountFlagsUsed(f); used != "" {
			return cli.Usagef(tool, "%s needs --pivot: without a mount namespace of its own the mount would land on the host", used)
		}
		return withNotRootHint(jail.Chroot(o.Root, o.Argv, o.Env, ex))
	}
	return withNotRootHint(jail.Pivot(o, ex))
}

// defineMountFlags adds the flags of the mounts --pivot makes to f,
// reading them into o; the --bind values are returned to parse.
func defineMountFlags(f *cli.Flags, o *jail.Options) *[]string {
	var binds []string
	f.BoolVar(&o.Proc, "proc", false, "mount proc on /proc (nosuid,noexec,nodev)")
	f.BoolVar(&o.Dev, "dev", false, "tmpfs on /dev with null zero full random urandom tty and the fd/std* links")
	f.BoolVar(&o.Devpts, "devpts", false, "a new devpts instance on /dev/pts, /dev/ptmx linked to it")
	f.StringVar(&o.Shm, "shm", "", "tmpfs of this size on /dev/shm (like 64m)")
	f.BoolVar(&o.Mqueue, "mqueue", false, "mqueue on /dev/mqueue")
	f.BoolVar(&o.Privileged, "privileged", false, "as Docker's --privileged: with --docker no masked or read-only paths; --sys and --cgroupfs read-write; --dev gets a copy (mknod) of every host device node (not pts, shm, mqueue, fd, console)")
	f.BoolVar(&o.Sys, "sys", false, "sysfs, read-only, on /sys")
	f.BoolVar(&o.Cgroupfs, "cgroupfs", false, "the process's own cgroup (each v1 hierarchy bound read-only, or cgroup2), on /sys/fs/cgroup, as Docker")
	f.StringArrayVar(&o.Mask, "mask", nil, "hide PATH (file: /dev/null over it; directory: empty read-only tmpfs); repeatable")
	f.StringArrayVar(&o.ReadonlyPaths, "readonly-path", nil, "make PATH read-only; repeatable")
	f.StringArrayVar(&binds, "bind", nil, "bind-mount host SRC at DST inside (SRC:DST[:OPTS], OPTS: ro or rw, and a propagation: rshared, rslave, ...); repeatable")
	f.Var(deviceFlag{&o.Devices}, "device", "make the host's device node HOST (a directory: every node under it) at CONTAINER inside, or at the same path (HOST[:CONTAINER], as docker run --device); repeatable")
	f.Var(tmpfsFlag{&o.Tmpfs}, "tmpfs", "mount a tmpfs at DST inside (DST[:OPTS], OPTS as mount(8)'s: size=64m,mode=1777,noexec,...); repeatable")
	f.BoolVar(&o.ReadOnly, "read-only", false, "make the root filesystem read-only")
	f.StringVar(&o.Workdir, "workdir", "", "start in DIR inside the root (created when missing)")
	return &binds
}

// mountFlagsUsed returns the first flag given that only --pivot can honour.
func mountFlagsUsed(f *cli.Flags) string {
	for _, name := range []string{"docker", "privileged", "proc", "dev", "devpts", "shm", "mqueue", "sys",
		"cgroupfs", "mask", "readonly-path", "bind", "device", "tmpfs", "read-only", "workdir"} {
		if f.Changed(name) {
			return "--" + name
		}
	}
	return ""
}

// withNotRootHint explains a failure of a tool run without root.
func withNotRootHint(err error) error {
	if err == nil || os.Geteuid() == 0 {
		return err
	}
	return cli.WithHint(err, "chroot needs root (CAP_SYS_CHROOT, and CAP_SYS_ADMIN for --pivot): run it with sudo")
}

// parseBind parses SRC:DST[:OPTS], OPTS a comma list of ro or rw and
// a propagation mode.
func parseBind(s string) (jail.Bind, error) {
	parts := strings.Split(s, ":")
	var b jail.Bind
	if len(parts) != 2 && len(parts) != 3 {
		return b, cli.Usagef(tool, "--bind %q: want SRC:DST or SRC:DST:OPTS", s)
	}
	b.Src, b.Dst = parts[0], parts[1]
	if b.Src == "" || !strings.HasPrefix(b.Dst, "/") {
		return b, cli.Usagef(tool, "--bind %q: want a host SRC and an absolute DST", s)
	}
	if len(parts) == 3 {
		for _, o := range strings.Split(parts[2], ",") {
			switch _, prop := jail.Propagations[o]; {
			case o == "ro" || o == "rw":
				b.ReadOnly = o == "ro"
			case prop:
				b.Propagation = o
			default:
				return b, cli.Usagef(tool, "--bind %q: unknown option %q (want ro, rw or a propagation mode)", s, o)
			}
		}
	}
	return b, nil
}

// tmpfsFlag is --tmpfs DST[:OPTS] as a flag value.
type tmpfsFlag struct{ ts *[]jail.Tmpfs }

func (f tmpfsFlag) String() string { return "" }
func (f tmpfsFlag) Type() string   { return "tmpfs" }
func (f tmpfsFlag) Set(v string) error {
	dst, opts, _ := strings.Cut(v, ":")
	if !strings.HasPrefix(dst, "/") {
		return fmt.Errorf("want an absolute DST[:OPTS], got %q", v)
	}
	*f.ts = append(*f.ts, jail.Tmpfs{Dst: dst, Options: opts})
	return nil
}

// deviceFlag is --device HOST[:CONTAINER] as a flag value: the host's
// node is read now, while the host's /dev is in sight.
type deviceFlag struct{ ds *[]jail.Device }

func (f deviceFlag) String() string { return "" }
func (f deviceFlag) Type() string   { return "device" }
func (f deviceFlag) Set(v string) error {
	host, ctr, _ := strings.Cut(v, ":")
	if ctr == "" {
		ctr = host
	}
	if !strings.HasPrefix(ctr, "/") {
		return fmt.Errorf("want HOST[:CONTAINER] with an absolute CONTAINER, got %q", v)
	}
	ds, err := jail.HostDevices(host, ctr)
	*f.ds = append(*f.ds, ds...)
	return err
}

func prepare(args []string) error {
	f := cli.NewFlags(cli.Command{
		Tool:  tool,
		Usage: "prepare ROOTFS BINARY...",
		Summary: "Copy each BINARY (a path, or a name looked up in PATH) into ROOTFS at the same path,\n" +
			"with its ELF interpreter and every shared library it needs, found like ld.so does.\n" +
			"Prints each file and link created.",
		Examples: []string{"chroot prepare ./jail /bin/sh ls cat"},
	})
	if err := f.ParseAtLeast(args, 2, "want ROOTFS and at least one BINARY"); err != nil {
		return cli.Done(err)
	}
	made, err := jail.Prepare(f.Arg(0), f.Args()[1:], f.Explainer())
	for _, m := range made {
		fmt.Println(m)
	}
	return err
}
