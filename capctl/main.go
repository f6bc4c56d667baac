// Command capctl shows, decodes and sets Linux capabilities: the pieces
// root is split into. It is lesson 06 of mini-docker; the work is done by
// package mini-docker/capctl/caps.
//
// Lesson 06 (lessons/06-capabilities.md) teaches it.
package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"mini-docker/capctl/caps"
	"mini-docker/internal/cli"
)

const tool = "capctl"

// commands is capctl's top level: its sub-commands and its help.
var commands = cli.Dispatcher{
	Tool:    tool,
	Summary: "Linux capabilities: root split into pieces.",
	Commands: cli.Verbs(tool, []cli.Verb{
		{Usage: "show [PID]", Short: "print the capability sets of a process, decoded", Run: cmdShow, Help: cli.Command{
			Summary:  "Print the five capability sets of a process (default: capctl itself), decoded to names, with its no_new_privs flag and seccomp mode: the Cap lines of /proc/PID/status made readable.",
			Examples: []string{"capctl show", "capctl show 1", "capctl run --docker-default -- capctl show"}}},
		{Usage: "decode HEX...", Short: "decode a capability set written in hex (capsh --decode)", Run: cmdDecode, Help: cli.Command{
			Summary:  "Decode capability sets written in hex, as /proc/PID/status prints them, into names (like capsh --decode).",
			Examples: []string{"capctl decode 00000000a80425fb", "capctl decode $(awk '/CapEff/ {print $2}' /proc/self/status)"}}},
		{Usage: "run [OPTIONS] -- COMMAND [ARG...]", Short: "set capabilities (and user), then exec a command", Run: cmdRun, Help: cli.Command{
			Summary: "Set the bounding, inheritable, permitted, effective and ambient capability sets (and the user) of this thread, then exec COMMAND. " +
				"Without --docker-default the starting sets are capctl's own permitted and bounding sets. A capability both added and dropped is kept (Docker's rule); ALL in --cap-add gives all but the dropped; ALL in --cap-drop gives only the added. " +
				"Names are CHOWN, CAP_CHOWN, cap_chown or ALL, comma-separated or repeated.",
			Examples: []string{
				"capctl run --docker-default -- grep Cap /proc/self/status",
				"capctl run --drop CHOWN -- chown 1 file          # fails, even as root",
				"capctl run --cap-drop ALL --keep NET_BIND_SERVICE --user nobody -- ./server :80",
				"capctl run --docker-default --user www-data:www-data --no-new-privs -- id",
			}}},
		{Usage: "setfile CAPS FILE...", Short: "set the capabilities of a file (setcap)", Run: cmdSetFile, Help: cli.Command{
			Usage: "[--rootid UID] CAPS FILE...",
			Summary: "Set the capabilities of files (the security.capability extended attribute, like setcap). CAPS is cap_from_text(3) text: " +
				"names, then = + or -, then flags e (effective), i (inheritable), p (permitted). Written as revision 2, or revision 3 with --rootid. Needs CAP_SETFCAP.",
			Examples: []string{"capctl setfile cap_net_bind_service+ep ./server", "capctl setfile 'cap_net_raw,cap_net_admin=ep' ./ping", "capctl setfile --rootid 100000 cap_net_raw+ep ./ping"}}},
		{Usage: "getfile FILE...", Short: "print the capabilities of files (getcap)", Run: cmdGetFile, Help: cli.Command{
			Summary:  "Print the capabilities of files, like getcap: 'FILE cap_net_bind_service=ep'. Files without capabilities print nothing.",
			Examples: []string{"capctl getfile ./server", "capctl getfile /usr/bin/ping"}}},
		{Usage: "rmfile FILE...", Short: "remove the capabilities of files (setcap -r)", Run: cmdRmFile, Help: cli.Command{
			Summary:  "Remove the capabilities of files (setcap -r). Needs CAP_SETFCAP.",
			Examples: []string{"capctl rmfile ./server"}}},
		{Usage: "list", Short: "list the capabilities the running kernel knows", Run: cmdList, Help: cli.Command{
			Summary:  "List every capability the running kernel knows (up to /proc/sys/kernel/cap_last_cap), with its bit number, and mark Docker's default set.",
			Examples: []string{"capctl list"}}},
	}),
	Examples: []string{
		"capctl show",
		"capctl decode 00000000a80425fb",
		"capctl run --docker-default -- grep Cap /proc/self/status",
		"capctl run --cap-drop CHOWN -- chown 1 file",
		"capctl setfile cap_net_bind_service+ep ./server",
	},
}

func main() { cli.Main(tool, commands.Run) }

// badCaps turns a capability parse error into exit 125 with a hint.
func badCaps(err error) error {
	var u *caps.UnknownError
	if errors.As(err, &u) {
		return cli.WithHint(cli.WithCode(err, cli.ExitToolFailure),
			"names look like CHOWN, cap_net_admin or CAP_SYS_ADMIN, or ALL; 'capctl list' shows them all")
	}
	return cli.WithCode(err, cli.ExitToolFailure)
}

func cmdShow(f *cli.Flags, args []string) error {
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	pid := 0
	switch len(f.Args()) {
	case 0:
	case 1:
		n, err := strconv.Atoi(f.Args()[0])
		if err != nil || n <= 0 {
			return cli.Usagef(tool+" show", "%q is not a process id", f.Args()[0])
		}
		pid = n
	default:
		return cli.Usagef(tool+" show", "one process id at most")
	}
	if pid == 0 {
		f.Explainer().Cmd("grep -E 'Cap|NoNewPrivs|Seccomp' /proc/self/status")
	} else {
		f.Explainer().Cmd("grep -E 'Cap|NoNewPrivs|Seccomp' /proc/%d/status", pid)
	}
	st, err := caps.ReadStatus(pid)
	if err != nil {
		return err
	}
	groups := make([]string, len(st.Groups))
	for i, g := range st.Groups {
		groups[i] = strconv.Itoa(g)
	}
	w := os.Stdout
	fmt.Fprintf(w, "Process      %d (%s), uid %d, gid %d, groups [%s]\n", st.PID, st.Name, st.UID, st.GID, strings.Join(groups, " "))
	for _, s := range []struct {
		name string
		set  caps.Set
	}{
		{"Inheritable", st.Inheritable}, {"Permitted", st.Permitted}, {"Effective", st.Effective},
		{"Bounding", st.Bounding}, {"Ambient", st.Ambient},
	} {
		fmt.Fprintf(w, "%-12s %s %s\n", s.name, s.set.Hex(), caps.Describe(s.set))
	}
	nnp := 0
	if st.NoNewPrivs {
		nnp = 1
	}
	fmt.Fprintf(w, "NoNewPrivs   %d\n", nnp)
	mode := strconv.Itoa(st.Seccomp)
	if st.Seccomp >= 0 && st.Seccomp < len(caps.SeccompModes) {
		mode = caps.SeccompModes[st.Seccomp]
	}
	if st.Seccomp == 2 {
		fmt.Fprintf(w, "Seccomp      %d %s (%d filters)\n", st.Seccomp, mode, st.Filters)
	} else {
		fmt.Fprintf(w, "Seccomp      %d %s\n", st.Seccomp, mode)
	}
	return nil
}

func cmdDecode(f *cli.Flags, args []string) error {
	f.Lookup("explain").Hidden = true
	if err := f.ParseAtLeast(args, 1, "no set given (like 00000000a80425fb)"); err != nil {
		return cli.Done(err)
	}
	for _, a := range f.Args() {
		s, err := caps.ParseHex(a)
		if err != nil {
			return cli.WithCode(err, cli.ExitToolFailure)
		}
		fmt.Printf("0x%s=%s\n", s.Hex(), s)
	}
	return nil
}

func cmdList(f *cli.Flags, args []string) error {
	f.Lookup("explain").Hidden = true
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	for _, c := range caps.All().Caps() {
		mark := ""
		if caps.DockerDefault.Has(c) {
			mark = "  docker-default"
		}
		fmt.Printf("%2d  %s%s\n", int(c), c.DockerName(), mark)
	}
	return nil
}

func cmdRun(f *cli.Flags, args []string) error {
	var r caps.Run
	var capDrop, capAdd, ambient, groupAdd []string
	f.StringSliceVar(&r.Drop, "drop", nil, "capabilities to drop from every set")
	f.StringSliceVar(&capDrop, "cap-drop", nil, "same as --drop (docker run's name)")
	f.StringSliceVar(&r.Add, "add", nil, "capabilities to add (to bounding, permitted, effective)")
	f.StringSliceVar(&capAdd, "cap-add", nil, "same as --add (docker run's name)")
	f.StringSliceVar(&r.Keep, "keep", nil, "capabilities to keep across exec as a non-root --user: also put them in the inheritable and ambient sets (implies --add)")
	f.StringSliceVar(&ambient, "ambient-caps", nil, "same as --keep (setpriv's name)")
	f.BoolVar(&r.DockerDefault, "docker-default", false, "start from Docker's 14 default capabilities, with inheritable and ambient empty")
	f.BoolVar(&r.Privileged, "privileged", false, "every capability (docker run --privileged); --cap-add and --cap-drop are ignored")
	f.StringVarP(&r.User, "user", "u", "", "run as `USER[:GROUP]` (names or numbers, from ROOT/etc/passwd and ROOT/etc/group; supplementary groups: the GID, then the user's groups, as docker run -u). With --docker-default or --privileged and no --user, root runs as Docker's default user (uid 0 of ROOT/etc/passwd, groups its GID and memberships)")
	f.StringSliceVar(&r.Groups, "groups", nil, "extra supplementary `GROUPS` for --user, names or numbers (docker run --group-add)")
	f.StringSliceVar(&groupAdd, "group-add", nil, "same as --groups (docker run's name)")
	f.BoolVar(&r.NoNewPrivs, "no-new-privs", false, "set no_new_privs: exec never grants privileges again (setuid bits, file capabilities)")
	f.StringVar(&r.Root, "root", "/", "the root whose /etc/passwd and /etc/group name users and groups")
	if err := f.Parse(args); err != nil {
		return cli.Done(err)
	}
	argv := f.Args()
	if len(argv) == 0 {
		return cli.Usagef(tool+" run", "no command given (capctl run [OPTIONS] -- COMMAND)")
	}
	r.Drop, r.Add = append(r.Drop, capDrop...), append(r.Add, capAdd...)
	r.Keep, r.Groups = append(r.Keep, ambient...), append(r.Groups, groupAdd...)
	if r.User == "" && len(r.Groups) > 0 {
		return cli.Usagef(tool+" run", "--groups needs --user")
	}
	spec, home, err := r.Spec()
	var notHeld *caps.NotHeldError
	if errors.As(err, &notHeld) {
		return cli.WithHint(cli.Errorf(cli.ExitToolFailure, "cannot give %s: capctl does not hold it (permitted %s, bounding %s)", notHeld.Missing, notHeld.Permitted.Hex(), notHeld.Bounding.Hex()),
			"run capctl as root, from a process that still has these capabilities")
	}
	if err != nil {
		return badCaps(err)
	}
	env := os.Environ()
	if home != "" && os.Getenv("HOME") == "" { // runc sets HOME from /etc/passwd when unset
		env = append(env, "HOME="+home)
	}
	ex := f.Explainer()
	if err := caps.Apply(spec, ex); err != nil {
		return cli.WithHint(err, "capctl run needs root (CAP_SETPCAP, CAP_SETUID, CAP_SETGID), and can only keep capabilities it holds")
	}
	ex.Argv(append([]string{"exec"}, argv...)...)
	return cli.Exec(argv, env)
}

func cmdSetFile(f *cli.Flags, args []string) error {
	rootID := f.Uint32("rootid", 0, "write revision 3 for the user namespace whose root is host `UID`")
	if err := f.ParseAtLeast(args, 2, "need CAPS and at least one FILE"); err != nil {
		return cli.Done(err)
	}
	fc, err := caps.ParseFileCaps(f.Args()[0])
	if err != nil {
		return badCaps(err)
	}
	if f.Changed("rootid") {
		fc.Version, fc.RootID = 3, *rootID
	}
	// Check every file first, so a bad name leaves no file half done.
	for _, p := range f.Args()[1:] {
		if st, err := os.Lstat(p); err != nil {
			return err
		} else if !st.Mode().IsRegular() {
			return fmt.Errorf("set capabilities of %s: not a regular file (a symbolic link is not followed)", p)
		}
	}
	for _, p := range f.Args()[1:] {
		if err := caps.SetFile(p, fc, f.Explainer()); err != nil {
			return err
		}
	}
	return nil
}

func cmdGetFile(f *cli.Flags, args []string) error {
	if err := f.ParseAtLeast(args, 1, "no FILE given"); err != nil {
		return cli.Done(err)
	}
	for _, p := range f.Args() {
		fc, err := caps.GetFile(p, f.Explainer())
		if errors.Is(err, caps.ErrNoFileCaps) {
			continue
		}
		if err != nil {
			return err
		}
		fmt.Printf("%s %s\n", p, fc)
	}
	return nil
}

func cmdRmFile(f *cli.Flags, args []string) error {
	if err := f.ParseAtLeast(args, 1, "no FILE given"); err != nil {
		return cli.Done(err)
	}
	for _, p := range f.Args() {
		if err := caps.RemoveFile(p, f.Explainer()); err != nil {
			return err
		}
	}
	return nil
}
