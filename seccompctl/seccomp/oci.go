package seccomp

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// OCI returns the resolved profile as the "linux.seccomp" object of an OCI
// runtime config (the runtime spec's own LinuxSeccomp type): what dockerd
// hands runc after resolving a Docker profile for one container
// (includes/excludes applied, one architecture, no archMap). Rules keep
// the profile's order, each with the names that exist on the architecture.
func (r *Resolved) OCI(p *Profile) *specs.LinuxSeccomp {
	o := &specs.LinuxSeccomp{DefaultAction: specs.LinuxSeccompAction(r.DefaultAction), DefaultErrnoRet: p.DefaultErrnoRet,
		Architectures: []specs.Arch{specs.Arch(r.Arch.SCMP)}}
	last := -1
	for _, rule := range r.Rules {
		if rule.Source != last {
			s := p.Syscalls[rule.Source]
			o.Syscalls = append(o.Syscalls, specs.LinuxSyscall{Action: specs.LinuxSeccompAction(s.Action), ErrnoRet: s.ErrnoRet, Args: ociArgs(s.Args)})
			last = rule.Source
		}
		cur := &o.Syscalls[len(o.Syscalls)-1]
		cur.Names = append(cur.Names, rule.Name)
	}
	return o
}

// ociArgs returns a rule's argument conditions in the runtime spec's type.
func ociArgs(args []Arg) []specs.LinuxSeccompArg {
	var out []specs.LinuxSeccompArg
	for _, a := range args {
		out = append(out, specs.LinuxSeccompArg{Index: a.Index, Value: a.Value, ValueTwo: a.ValueTwo, Op: specs.LinuxSeccompOperator(a.Op)})
	}
	return out
}
