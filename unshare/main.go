// Command unshare runs a command in new or existing Linux namespaces, like
// util-linux's unshare(1) and nsenter(1) together. Lesson 02.
//
// Lesson 02 (lessons/02-namespaces.md) teaches it.
package main

import (
	"fmt"
	"os"
	"os/user"
	"runtime"
	"strconv"
	"strings"

	"mini-docker/internal/cli"
	"mini-docker/unshare/ns"
)

const tool = "unshare"

func init() {
	// The child is killed when the thread that created it exits
	// (Pdeathsig): keep main on one thread that lives as long as we do.
	runtime.LockOSThread()
}

func main() {
	if ns.IsInit() {
		// The child re-executed by ns.Run, already in its new namespaces.
		cli.Main(tool, func([]string) error { return ns.Init() })
	}
	cli.Main(tool, run)
}

func run(args []string) error {
	if len(args) > 1 && args[0] == "--explain" && (args[1] == "join" || args[1] == "show") {
		// `unshare --explain join PID ...` means `unshare join --explain PID ...`.
		args = append([]string{args[1], args[0]}, args[2:]...)
	}
	return commands.Run(args)
}

// commands is unshare's top level: join and show, or else new
// namespaces for a command, whose flags answer --help.
var commands = cli.Dispatcher{
	Tool:     tool,
	Commands: []cli.Subcommand{{Name: "join", Run: join}, {Name: "show", Run: show}},
	Default:  runNew,
}

// runNew runs a command in new (or given) namespaces.
func runNew(args []string) error {
	var c ns.Config
	var o runFlags
	f := cli.NewFlags(cli.Command{
		Tool:  tool,
		Usage: "[flags] [--] [CMD [ARGS...]]\n       unshare join PID [--] CMD [ARGS...]\n       unshare show [PID]",
		Summary: "Run CMD (default $SHELL) in new namespaces, or in existing ones (--ns, --net-path).\n" +
			"New namespaces are made for a child (clone flags); with --pid it is PID 1 there,\n" +
			"and unshare waits for it, forwards signals and exits with its code (128+N if killed by N).\n" +
			"join: run CMD in all namespaces and the root of process PID (nsenter).\n" +
			"show: list the namespaces of PID (default: unshare itself), shared with the host's PID 1 or private.",
		Examples: []string{
			"unshare --pid --mount-proc --uts --hostname box -- ps -o pid,comm",
			"unshare --net -- ip -o link",
			"unshare --user --map-root-user -- id -u        # as any user",
			"unshare --mount --uts --ipc --pid --net-path /run/netns/blue -- sh",
			"unshare join 1234 -- cat /etc/os-release",
			"unshare show 1234",
		},
	})
	o.define(f, &c)
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	c.Argv = f.Args()
	if len(c.Argv) == 0 {
		sh := os.Getenv("SHELL")
		if sh == "" {
			sh = "/bin/sh"
		}
		c.Argv = []string{sh}
	}
	c.Env = os.Environ()
	if err := o.config(&c); err != nil {
		return err
	}
	return ns.Run(c, f.Explainer())
}

// runFlags are unshare's flags that choose namespaces, beyond ns.Config's.
type runFlags struct {
	create                     map[string]*bool // --pid, --mount, ...: a new namespace of the type
	all, mapRoot               bool
	mapUser, mapGroup, netPath string
	joins                      []string // --ns TYPE=FILE
}

// define adds the flags to f; --mount-proc and --hostname go straight
// into c.
func (o *runFlags) define(f *cli.Flags, c *ns.Config) {
	o.create = map[string]*bool{}
	for _, n := range []struct{ name, short, help string }{
		{"pid", "p", "new PID namespace: CMD is PID 1"},
		{"mount", "m", "new mount namespace (mounts made private)"},
		{"uts", "u", "new UTS namespace (hostname)"},
		{"ipc", "i", "new IPC namespace"},
		{"net", "n", "new network namespace (only a down lo)"},
		{"user", "U", "new user namespace"},
		{"cgroup", "C", "new cgroup namespace"},
	} {
		o.create[n.name] = f.BoolP(n.name, n.short, false, n.help)
	}
	f.BoolVar(&o.all, "all", false, "all of the above (user with root mapped to you, unless --map-user/--map-group)")
	f.BoolVar(&c.MountProc, "mount-proc", false, "mount a new /proc (implies --mount)")
	f.StringVar(&c.Hostname, "hostname", "", "set the hostname in the new UTS namespace (implies --uts)")
	f.BoolVarP(&o.mapRoot, "map-root-user", "r", false, "map root inside to your user and group outside (implies --user)")
	f.StringVar(&o.mapUser, "map-user", "", "map this UID or user name inside to your UID outside (implies --user)")
	f.StringVar(&o.mapGroup, "map-group", "", "map this GID or group name inside to your GID outside (implies --user)")
	f.StringVar(&o.netPath, "net-path", "", "join the network namespace FILE (/run/netns/NAME or /proc/PID/ns/net)")
	f.StringArrayVar(&o.joins, "ns", nil, "join an existing namespace: TYPE=FILE (repeatable)")
}

// config turns the flags into c's clone flags, ID maps and joins. A
// flag that needs a namespace (--mount-proc, --hostname, --map-*) makes
// one, as util-linux's unshare does.
func (o *runFlags) config(c *ns.Config) error {
	o.implied(c)
	if o.mapRoot {
		c.UIDMap, c.GIDMap = ns.RootMap()
	}
	if o.mapUser != "" {
		id, err := lookupID(o.mapUser, true)
		if err != nil {
			return err
		}
		c.UIDMap = ns.IDMap(id, os.Geteuid())
	}
	if o.mapGroup != "" {
		id, err := lookupID(o.mapGroup, false)
		if err != nil {
			return err
		}
		c.GIDMap = ns.IDMap(id, os.Getegid())
	}
	for _, t := range ns.Types {
		name := t.Name
		if name == "mnt" {
			name = "mount"
		}
		if p, ok := o.create[name]; ok && *p {
			c.Flags |= t.Flag
		}
	}
	return o.join(c)
}

// implied sets the namespaces other flags need.
func (o *runFlags) implied(c *ns.Config) {
	if o.all {
		for _, name := range []string{"pid", "mount", "uts", "ipc", "net", "user", "cgroup"} {
			*o.create[name] = true
		}
		if o.mapUser == "" && o.mapGroup == "" {
			o.mapRoot = true
		}
	}
	if c.MountProc {
		*o.create["mount"] = true
	}
	if c.Hostname != "" {
		*o.create["uts"] = true
	}
	if o.mapRoot || o.mapUser != "" || o.mapGroup != "" {
		*o.create["user"] = true
	}
}

// join adds --ns and --net-path's existing namespaces to c; a type both
// made new and joined is refused.
func (o *runFlags) join(c *ns.Config) error {
	joins := o.joins
	if o.netPath != "" {
		joins = append(joins, "net="+o.netPath)
	}
	for _, j := range joins {
		typ, path, ok := strings.Cut(j, "=")
		if !ok || path == "" {
			return cli.Usagef(tool, "--ns %q: want TYPE=FILE, like net=/run/netns/blue", j)
		}
		t, err := ns.ParseType(typ)
		if err != nil {
			return cli.Usagef(tool, "--ns %s: %v", j, err)
		}
		if c.Flags&t.Flag != 0 {
			return cli.Usagef(tool, "the %s namespace is asked both new (%s) and joined (%s)", t.Name, t.Util, path)
		}
		c.Join = append(c.Join, ns.Join{Type: t, Path: path})
	}
	return nil
}

// lookupID resolves a numeric ID or a name from the host's files.
func lookupID(s string, isUser bool) (int, error) {
	if id, err := strconv.Atoi(s); err == nil && id >= 0 {
		return id, nil
	}
	var idStr string
	if isUser {
		u, err := user.Lookup(s)
		if err != nil {
			return 0, cli.Usagef(tool, "--map-user %s: no such user", s)
		}
		idStr = u.Uid
	} else {
		g, err := user.LookupGroup(s)
		if err != nil {
			return 0, cli.Usagef(tool, "--map-group %s: no such group", s)
		}
		idStr = g.Gid
	}
	return strconv.Atoi(idStr)
}

func join(args []string) error {
	f := cli.NewFlags(cli.Command{
		Tool:  tool,
		Usage: "join PID [--] CMD [ARGS...]",
		Summary: "Run CMD in every namespace of process PID, in its root and working directory\n" +
			"(nsenter --target PID --all --root --wd). The joining happens in a C constructor,\n" +
			"before the Go runtime starts threads: setns(2) into a mount or user namespace\n" +
			"needs a single-threaded process.",
		Examples: []string{"unshare join 1234 -- cat /etc/os-release"},
	})
	if err := f.ParseAtLeast(args, 1, "no PID given"); err != nil {
		return cli.Done(err)
	}
	pid, err := strconv.Atoi(f.Arg(0))
	if err != nil || pid <= 0 {
		return cli.Usagef(tool+" join", "PID %q: want a process ID", f.Arg(0))
	}
	argv := f.Args()[1:]
	if len(argv) > 0 && argv[0] == "--" {
		argv = argv[1:]
	}
	if len(argv) == 0 {
		argv = []string{"/bin/sh"}
	}
	return ns.JoinProcess(pid, argv, os.Environ(), f.Explainer())
}

func show(args []string) error {
	f := cli.NewFlags(cli.Command{
		Tool:  tool,
		Usage: "show [PID]",
		Summary: "List each namespace of process PID (default: this process) with its inode number,\n" +
			"and whether it is the host's (shared with PID 1) or private.",
		Examples: []string{"unshare show", "unshare show 1234"},
		Explain:  false,
	})
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	pid := 0
	if f.NArg() > 0 {
		p, err := strconv.Atoi(f.Arg(0))
		if err != nil || p <= 0 {
			return cli.Usagef(tool+" show", "PID %q: want a process ID", f.Arg(0))
		}
		pid = p
	}
	entries, err := ns.Show(pid)
	if err != nil {
		return err
	}
	if f.Explaining() {
		dir := "/proc/self/ns"
		if pid != 0 {
			dir = fmt.Sprintf("/proc/%d/ns", pid)
		}
		fmt.Fprintf(os.Stderr, "+ ls -l %s /proc/1/ns\n", dir)
	}
	return ns.PrintEntries(os.Stdout, entries)
}
