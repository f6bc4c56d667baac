// Command seccompctl filters the system calls of a command with seccomp,
// the way Docker does: a JSON profile compiled to a BPF program, loaded
// with seccomp(2), then exec. See lessons/07-seccomp.md.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"mini-docker/internal/cli"
	"mini-docker/seccompctl/seccomp"
)

const tool = "seccompctl"

// commands is seccompctl's top level: its sub-commands and its help.
var commands = cli.Dispatcher{
	Tool: tool,
	Summary: `Filter system calls with seccomp: compile a Docker/OCI JSON profile to
BPF in Go, load it with seccomp(2), exec a command under it.`,
	Commands: cli.Verbs(tool, []cli.Verb{
		{Usage: "run [flags] -- CMD [ARG...]", Short: "install a filter, then exec a command under it", Run: withPolicy(cmdRun), Help: cli.Command{
			Usage:   "[--profile default|FILE|unconfined | --deny CALLS [--errno E|--kill|--log|--trap]] [--caps LIST] -- CMD [ARGS...]",
			Summary: "Install a seccomp filter on this process, then exec CMD under it. The filter is inherited by every child and cannot be removed.",
			Examples: []string{
				"seccompctl run --deny mkdir -- mkdir /tmp/x          # mkdir: cannot create directory: Operation not permitted",
				"seccompctl run --profile default -- syscalls           # Docker's default profile",
				"seccompctl run --profile my.json --caps CHOWN,KILL -- sh",
				"seccompctl run --explain --deny unshare --kill -- unshare -U true",
			}}},
		{Usage: "dump [flags] PROFILE | --deny CALLS", Short: "print the compiled BPF program as commented assembly", Run: withPolicy(cmdDump), Help: cli.Command{
			Usage:   "[--caps LIST] [--arch ARCH] [--kernel VERSION] PROFILE | --deny CALLS",
			Summary: "Print the BPF program a profile compiles to, as assembly with comments: what the kernel runs on every system call.",
			Examples: []string{
				"seccompctl dump --deny mkdir",
				"seccompctl dump default | less",
				"seccompctl dump --caps ALL default    # what --cap-add ALL would change",
				"seccompctl dump --oci default         # the profile as dockerd hands it to runc",
			}}},
		{Usage: "check [flags] PROFILE SYSCALL [ARG...]", Short: "say which action a system call would get", Run: withPolicy(cmdCheck), Help: cli.Command{
			Usage:   "[--caps LIST] [--arch ARCH] [--kernel VERSION] PROFILE SYSCALL [ARG0 [ARG1 ...]] | --deny CALLS SYSCALL [ARGS]",
			Summary: "Say which action a system call with these arguments would get, by running the compiled BPF program in an interpreter: the same instructions the kernel runs.",
			Examples: []string{
				"seccompctl check default mkdir                 # ALLOW",
				"seccompctl check default personality 0x400000  # ERRNO(EPERM): READ_IMPLIES_EXEC",
				"seccompctl check default socket 40             # ERRNO(EPERM): AF_VSOCK",
				"seccompctl check --caps ALL default mount      # ALLOW once CAP_SYS_ADMIN is kept",
			}}},
	}),
	Examples: []string{
		"seccompctl run --deny mkdir -- mkdir /tmp/x      # mkdir fails with EPERM",
		"seccompctl run --profile default -- syscalls     # Docker's default policy",
		"seccompctl dump default | head                   # the BPF program",
		"seccompctl check default clone3                  # which action a call gets",
	},
}

func main() { cli.Main(tool, commands.Run) }

// policy holds the flags that choose a filter, shared by run, dump and check.
type policy struct {
	profile string
	deny    string
	errno   string
	kill    bool
	log     bool
	trap    bool
	caps    string
	arch    string
	kernel  string
	cmdName string
	oci     bool // dump --oci
}

// withPolicy is run, dump or check as a cli.Verb's Run: the policy flags
// that command takes defined on its flag set and args read, then run.
func withPolicy(run func(f *cli.Flags, p *policy) error) func(*cli.Flags, []string) error {
	return func(f *cli.Flags, args []string) error {
		p := &policy{}
		p.define(f, strings.TrimPrefix(f.Name(), tool+" "))
		if err := f.Parse(args); err != nil {
			return cli.Done(err)
		}
		return run(f, p)
	}
}

func (p *policy) define(f *cli.Flags, cmd string) {
	p.cmdName = cmd
	if cmd == "run" {
		f.StringVar(&p.profile, "profile", "default", "the profile: default (Docker's), unconfined (no filter), or a JSON file")
	}
	f.StringVar(&p.deny, "deny", "", "instead of a profile: allow everything but these system calls (comma-separated)")
	f.StringVar(&p.errno, "errno", "EPERM", "with --deny: the error the denied calls return")
	f.BoolVar(&p.kill, "kill", false, "with --deny: kill the process instead (SCMP_ACT_KILL_PROCESS)")
	f.BoolVar(&p.log, "log", false, "with --deny: allow but log the calls to the kernel log (SCMP_ACT_LOG)")
	f.BoolVar(&p.trap, "trap", false, "with --deny: send SIGSYS instead (SCMP_ACT_TRAP)")
	f.StringVar(&p.caps, "caps", "", "the capabilities the process will keep, comma-separated: they select the profile's capability-dependent rules (default: Docker's 14; ALL; '' for none)")
	if cmd != "run" {
		f.StringVar(&p.arch, "arch", "", "compile for this architecture (amd64, arm64) instead of the running one")
		f.StringVar(&p.kernel, "kernel", "", "evaluate minKernel rules for this kernel version instead of the running one")
	}
	if cmd == "dump" {
		f.BoolVar(&p.oci, "oci", false, "print the resolved profile as the OCI runtime config's linux.seccomp (what dockerd hands runc) instead of BPF")
	}
}

// build returns the profile and its compiled program; a nil profile
// means unconfined.
func (p *policy) build(f *cli.Flags, profileArg string) (*seccomp.Profile, *seccomp.Resolved, *seccomp.Program, error) {
	opts := seccomp.Options{Kernel: p.kernel}
	if p.arch != "" {
		a, err := seccomp.LookupArch(p.arch)
		if err != nil {
			return nil, nil, nil, cli.Usagef(tool+" "+p.cmdName, "--arch: %v", err)
		}
		opts.Arch = a
	}
	list := p.caps
	if !f.Changed("caps") {
		list = strings.Join(seccomp.DockerDefaultCaps, ",")
	}
	caps, err := seccomp.ParseCaps(list)
	if err != nil {
		return nil, nil, nil, cli.WithHint(cli.Usagef(tool+" "+p.cmdName, "--caps: %v", err), "capability names look like CHOWN or CAP_SYS_ADMIN; see capabilities(7)")
	}
	opts.Caps = caps

	var prof *seccomp.Profile
	if p.deny != "" {
		if profileArg != "" && profileArg != "default" {
			return nil, nil, nil, cli.Usagef(tool+" "+p.cmdName, "--deny and a profile cannot be combined")
		}
		action, errno, err := p.denyAction(f)
		if err != nil {
			return nil, nil, nil, err
		}
		names := splitList(p.deny)
		prof, err = seccomp.DenyProfile(names, action, errno, opts.Arch)
		if err != nil {
			return nil, nil, nil, cli.Usagef(tool+" "+p.cmdName, "%v", err)
		}
	} else {
		for _, fl := range []string{"errno", "kill", "log", "trap"} {
			if f.Changed(fl) {
				return nil, nil, nil, cli.Usagef(tool+" "+p.cmdName, "--%s only goes with --deny", fl)
			}
		}
		prof, err = seccomp.LoadProfile(profileArg)
		if err != nil {
			return nil, nil, nil, err
		}
		if prof == nil {
			return nil, nil, nil, nil
		}
	}
	r, prog, err := seccomp.Build(prof, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, w := range seccomp.Warnings(prof, r) {
		fmt.Fprintf(os.Stderr, "%s: warning: %s\n", tool, w)
	}
	return prof, r, prog, nil
}

func (p *policy) denyAction(f *cli.Flags) (seccomp.Action, uint, error) {
	n := 0
	for _, b := range []bool{p.kill, p.log, p.trap, f.Changed("errno")} {
		if b {
			n++
		}
	}
	if n > 1 {
		return "", 0, cli.Usagef(tool+" "+p.cmdName, "choose one of --errno, --kill, --log, --trap")
	}
	switch {
	case p.kill:
		return seccomp.ActKillProcess, 0, nil
	case p.log:
		return seccomp.ActLog, 0, nil
	case p.trap:
		return seccomp.ActTrap, 0, nil
	}
	e, err := seccomp.ParseErrno(p.errno)
	if err != nil {
		return "", 0, cli.Usagef(tool+" "+p.cmdName, "--errno: %v", err)
	}
	return seccomp.ActErrno, e, nil
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func cmdRun(f *cli.Flags, p *policy) error {
	argv := f.Args()
	if len(argv) > 0 && argv[0] == "--" {
		argv = argv[1:]
	}
	if len(argv) == 0 {
		return cli.Usagef(tool+" run", "no command given")
	}
	if f.Changed("profile") && p.deny != "" {
		return cli.Usagef(tool+" run", "--deny and --profile cannot be combined")
	}
	_, _, prog, err := p.build(f, p.profile)
	if err != nil {
		return err
	}
	env := os.Environ()
	// Find the command before filtering: a missing command is reported
	// the same way with or without a filter (127).
	if _, err := cli.LookPath(argv[0], env); err != nil {
		return err
	}
	ex := f.Explainer()
	if prog == nil {
		ex.Note("unconfined: no seccomp filter")
	} else if err := seccomp.Install(prog, ex); err != nil {
		return cli.WithHint(err, "installing a filter needs CAP_SYS_ADMIN or no_new_privs; see lesson 07")
	}
	ex.Argv(append([]string{"exec"}, argv...)...)
	return cli.Exec(argv, env)
}

func cmdDump(f *cli.Flags, p *policy) error {
	rest := f.Args()
	var profileArg string
	switch {
	case len(rest) == 1:
		profileArg = rest[0]
	case len(rest) == 0 && p.deny != "":
	default:
		return cli.Usagef(tool+" dump", "want one PROFILE (default or a JSON file), or --deny CALLS")
	}
	if profileArg == "unconfined" {
		return cli.Usagef(tool+" dump", "unconfined has no program to dump")
	}
	prof, r, prog, err := p.build(f, profileArg)
	if err != nil {
		return err
	}
	if p.oci {
		b, err := json.MarshalIndent(r.OCI(prof), "", "\t")
		if err != nil {
			return err
		}
		fmt.Printf("%s\n", b)
		return nil
	}
	fmt.Print(seccomp.Dump(prof, r, prog))
	return nil
}

func cmdCheck(f *cli.Flags, p *policy) error {
	rest := f.Args()
	var profileArg string
	if p.deny == "" {
		if len(rest) < 2 {
			return cli.Usagef(tool+" check", "want PROFILE SYSCALL [ARGS...]")
		}
		profileArg, rest = rest[0], rest[1:]
	} else if len(rest) < 1 {
		return cli.Usagef(tool+" check", "want SYSCALL [ARGS...]")
	}
	name, argStrs := rest[0], rest[1:]
	if len(argStrs) > 6 {
		return cli.Usagef(tool+" check", "a system call has at most 6 arguments, got %d", len(argStrs))
	}
	var argv []uint64
	for i, s := range argStrs {
		v, err := strconv.ParseUint(s, 0, 64)
		if err != nil {
			if n, err2 := strconv.ParseInt(s, 0, 64); err2 == nil {
				v = uint64(n)
			} else {
				return cli.Usagef(tool+" check", "argument %d: %q is not a number (decimal, 0x hex or 0 octal)", i, s)
			}
		}
		argv = append(argv, v)
	}
	if profileArg == "unconfined" {
		fmt.Printf("%s: ALLOW (unconfined: no filter)\n", callString(name, argv))
		return nil
	}
	_, r, prog, err := p.build(f, profileArg)
	if err != nil {
		return err
	}
	ret, err := seccomp.Check(prog, r.Arch, name, argv)
	if err != nil {
		return cli.Usagef(tool+" check", "%v", err)
	}
	fmt.Printf("%s: %s\n", callString(name, argv), seccomp.RetString(ret))
	return nil
}

func callString(name string, args []uint64) string {
	if len(args) == 0 {
		return name
	}
	s := make([]string, len(args))
	for i, a := range args {
		s[i] = fmt.Sprintf("%#x", a)
	}
	return name + "(" + strings.Join(s, ", ") + ")"
}
