package seccomp

import (
	"encoding/json"
)

// OCISeccomp is the "linux.seccomp" object of an OCI runtime config: what
// dockerd hands runc after resolving a Docker profile for one container
// (includes/excludes applied, one architecture, no archMap).
type OCISeccomp struct {
	DefaultAction   Action       `json:"defaultAction"`
	DefaultErrnoRet *uint        `json:"defaultErrnoRet,omitempty"`
	Architectures   []string     `json:"architectures"`
	Syscalls        []OCISyscall `json:"syscalls"`
}

// OCISyscall is one rule of an OCI seccomp config.
type OCISyscall struct {
	Names    []string `json:"names"`
	Action   Action   `json:"action"`
	ErrnoRet *uint    `json:"errnoRet,omitempty"`
	Args     []Arg    `json:"args,omitempty"`
}

// OCI returns the resolved profile in the OCI runtime-spec form, rules in
// profile order, each with the names that exist on the architecture.
func (r *Resolved) OCI(p *Profile) *OCISeccomp {
	o := &OCISeccomp{DefaultAction: r.DefaultAction, DefaultErrnoRet: p.DefaultErrnoRet,
		Architectures: []string{r.Arch.SCMP}, Syscalls: []OCISyscall{}}
	last := -1
	for _, rule := range r.Rules {
		if rule.Source != last {
			s := p.Syscalls[rule.Source]
			o.Syscalls = append(o.Syscalls, OCISyscall{Action: s.Action, ErrnoRet: s.ErrnoRet, Args: s.Args})
			last = rule.Source
		}
		cur := &o.Syscalls[len(o.Syscalls)-1]
		cur.Names = append(cur.Names, rule.Name)
	}
	return o
}

// JSON returns o indented, for `seccompctl dump --oci`.
func (o *OCISeccomp) JSON() string {
	b, _ := json.MarshalIndent(o, "", "\t")
	return string(b) + "\n"
}
