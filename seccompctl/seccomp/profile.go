package seccomp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Profile is a seccomp profile in the JSON format of Docker and the OCI
// runtime spec (docker run --security-opt seccomp=FILE), so any profile
// written for Docker works unchanged.
type Profile struct {
	DefaultAction   Action         `json:"defaultAction"`
	DefaultErrnoRet *uint          `json:"defaultErrnoRet,omitempty"`
	Architectures   []string       `json:"architectures,omitempty"`
	ArchMap         []ArchMapEntry `json:"archMap,omitempty"`
	Syscalls        []Syscall      `json:"syscalls"`

	// Source names where the profile came from, for messages ("default",
	// a file name).
	Source string `json:"-"`
	// lines[i] is the line on which Syscalls[i] starts in Source (0 when
	// the profile was not read from JSON).
	lines []int
}

// ArchMapEntry is one architecture of Docker's archMap and the
// sub-architectures it brings along (x86 and x32 with x86_64).
type ArchMapEntry struct {
	Arch      string   `json:"architecture"`
	SubArches []string `json:"subArchitectures"`
}

// Syscall is one rule of a profile: an action for some system calls,
// optionally only when argument conditions hold, and only when the
// includes/excludes filters select it.
type Syscall struct {
	Names    []string `json:"names,omitempty"`
	Name     string   `json:"name,omitempty"` // the old single-name form
	Action   Action   `json:"action"`
	ErrnoRet *uint    `json:"errnoRet,omitempty"`
	Args     []Arg    `json:"args,omitempty"`
	Comment  string   `json:"comment,omitempty"`
	Includes *Filter  `json:"includes,omitempty"`
	Excludes *Filter  `json:"excludes,omitempty"`
}

// Arg is one argument condition: args[Index] OP Value (for
// SCMP_CMP_MASKED_EQ: args[Index] & Value == ValueTwo).
type Arg struct {
	Index    uint     `json:"index"`
	Value    uint64   `json:"value"`
	ValueTwo uint64   `json:"valueTwo,omitempty"`
	Op       Operator `json:"op"`
}

// Filter selects a rule by the capabilities the process keeps, the
// architecture, and the running kernel's version.
type Filter struct {
	Caps      []string `json:"caps,omitempty"`
	Arches    []string `json:"arches,omitempty"`
	MinKernel string   `json:"minKernel,omitempty"`
}

// Action is a profile action name, such as SCMP_ACT_ALLOW.
type Action string

// The actions seccompctl compiles (seccomp(2), "Filter return values").
const (
	ActAllow       Action = "SCMP_ACT_ALLOW"
	ActErrno       Action = "SCMP_ACT_ERRNO"
	ActKill        Action = "SCMP_ACT_KILL" // = KILL_THREAD
	ActKillThread  Action = "SCMP_ACT_KILL_THREAD"
	ActKillProcess Action = "SCMP_ACT_KILL_PROCESS"
	ActTrap        Action = "SCMP_ACT_TRAP"
	ActLog         Action = "SCMP_ACT_LOG"
	ActTrace       Action = "SCMP_ACT_TRACE"
)

// Operator is an argument comparison, such as SCMP_CMP_EQ.
type Operator string

// The comparisons of libseccomp and the OCI spec.
const (
	OpEQ       Operator = "SCMP_CMP_EQ"
	OpNE       Operator = "SCMP_CMP_NE"
	OpLT       Operator = "SCMP_CMP_LT"
	OpLE       Operator = "SCMP_CMP_LE"
	OpGT       Operator = "SCMP_CMP_GT"
	OpGE       Operator = "SCMP_CMP_GE"
	OpMaskedEQ Operator = "SCMP_CMP_MASKED_EQ"
)

func (a Action) valid() bool {
	switch a {
	case ActAllow, ActErrno, ActKill, ActKillThread, ActKillProcess, ActTrap, ActLog, ActTrace:
		return true
	}
	return false
}

func (o Operator) valid() bool {
	switch o {
	case OpEQ, OpNE, OpLT, OpLE, OpGT, OpGE, OpMaskedEQ:
		return true
	}
	return false
}

// names returns the system calls a rule is about.
func (s *Syscall) names() []string {
	if s.Name != "" {
		return append([]string{s.Name}, s.Names...)
	}
	return s.Names
}

// ParseProfile reads a JSON profile. Errors say where: the line, and the
// field or rule, in source.
func ParseProfile(data []byte, source string) (*Profile, error) {
	p := &Profile{Source: source}
	if err := json.Unmarshal(data, p); err != nil {
		return nil, jsonError(data, source, err)
	}
	if p.validate() != nil {
		// Only a message needs the rules' lines: find them, and say it again.
		p.lines = ruleLines(data)
		return nil, p.validate()
	}
	return p, nil
}

// where names rule i for a message: "FILE:LINE: syscalls[i]".
func (p *Profile) where(i int) string {
	w := p.Source
	if i < len(p.lines) && p.lines[i] > 0 {
		w = fmt.Sprintf("%s:%d", p.Source, p.lines[i])
	}
	return fmt.Sprintf("%s: syscalls[%d]", w, i)
}

// validate checks what JSON decoding cannot: action and operator names,
// argument indexes, architecture names.
func (p *Profile) validate() error {
	if p.DefaultAction == "" {
		return fmt.Errorf("%s: defaultAction: missing (Docker profiles start with \"defaultAction\": \"SCMP_ACT_ERRNO\")", p.Source)
	}
	if !p.DefaultAction.valid() {
		return fmt.Errorf("%s: defaultAction: unknown action %q (known: %s)", p.Source, p.DefaultAction, knownActions)
	}
	if e := p.DefaultErrnoRet; e != nil && p.DefaultAction == ActErrno {
		if err := checkErrno(*e); err != nil {
			return fmt.Errorf("%s: defaultErrnoRet: %v", p.Source, err)
		}
	}
	for _, a := range p.arches() {
		if _, ok := scmpArches[a]; !ok {
			return fmt.Errorf("%s: architectures: unknown architecture %q", p.Source, a)
		}
	}
	for i := range p.Syscalls {
		s := &p.Syscalls[i]
		if len(s.names()) == 0 {
			return fmt.Errorf("%s: names: no system call named", p.where(i))
		}
		if !s.Action.valid() {
			if s.Action == "SCMP_ACT_NOTIFY" {
				return fmt.Errorf("%s: action: SCMP_ACT_NOTIFY needs a listener process, which seccompctl does not provide", p.where(i))
			}
			return fmt.Errorf("%s: action: unknown action %q (known: %s)", p.where(i), s.Action, knownActions)
		}
		if s.ErrnoRet != nil && s.Action == ActErrno {
			if err := checkErrno(*s.ErrnoRet); err != nil {
				return fmt.Errorf("%s: errnoRet: %v", p.where(i), err)
			}
		}
		for j, a := range s.Args {
			if !a.Op.valid() {
				return fmt.Errorf("%s: args[%d].op: unknown operator %q (known: %s)", p.where(i), j, a.Op, knownOps)
			}
			if a.Index > 5 {
				return fmt.Errorf("%s: args[%d].index: %d, but system calls have arguments 0 to 5", p.where(i), j, a.Index)
			}
		}
		for _, f := range []*Filter{s.Includes, s.Excludes} {
			if f == nil {
				continue
			}
			if f.MinKernel != "" {
				if _, err := parseKernelVersion(f.MinKernel); err != nil {
					return fmt.Errorf("%s: minKernel: %v", p.where(i), err)
				}
			}
			for _, c := range f.Caps {
				if _, err := normalizeCap(c); err != nil {
					return fmt.Errorf("%s: caps: %v", p.where(i), err)
				}
			}
		}
	}
	return nil
}

const knownActions = "SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP, SCMP_ACT_LOG, SCMP_ACT_TRACE"
const knownOps = "SCMP_CMP_EQ, SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_GT, SCMP_CMP_GE, SCMP_CMP_MASKED_EQ"

// scmpArches maps libseccomp's architecture names to the GOARCH-style
// names Docker uses in includes/excludes "arches".
var scmpArches = map[string]string{
	"SCMP_ARCH_X86": "x86", "SCMP_ARCH_X86_64": "amd64", "SCMP_ARCH_X32": "x32",
	"SCMP_ARCH_ARM": "arm", "SCMP_ARCH_AARCH64": "arm64",
	"SCMP_ARCH_MIPS": "mips", "SCMP_ARCH_MIPS64": "mips64", "SCMP_ARCH_MIPS64N32": "mips64n32",
	"SCMP_ARCH_MIPSEL": "mipsel", "SCMP_ARCH_MIPSEL64": "mipsel64", "SCMP_ARCH_MIPSEL64N32": "mipsel64n32",
	"SCMP_ARCH_PPC": "ppc", "SCMP_ARCH_PPC64": "ppc64", "SCMP_ARCH_PPC64LE": "ppc64le",
	"SCMP_ARCH_S390": "s390", "SCMP_ARCH_S390X": "s390x", "SCMP_ARCH_PARISC": "parisc",
	"SCMP_ARCH_PARISC64": "parisc64", "SCMP_ARCH_RISCV64": "riscv64", "SCMP_ARCH_LOONGARCH64": "loong64",
	"SCMP_ARCH_M68K": "m68k", "SCMP_ARCH_SH": "sh", "SCMP_ARCH_SHEB": "sheb",
}

// arches lists every architecture the profile names, in archMap and
// architectures.
func (p *Profile) arches() []string {
	var a []string
	a = append(a, p.Architectures...)
	for _, m := range p.ArchMap {
		a = append(a, m.Arch)
		a = append(a, m.SubArches...)
	}
	return a
}

// jsonError turns a decoding error into "FILE:LINE:COL: FIELD: what".
func jsonError(data []byte, source string, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		// Offset counts the byte that broke the syntax: point at it.
		l, c := lineCol(data, max(syn.Offset-1, 0))
		return fmt.Errorf("%s:%d:%d: malformed JSON: %v", source, l, c, syn)
	case errors.As(err, &typ):
		// Offset is the end of the offending value: its line is the one to show.
		l, _ := lineCol(data, max(typ.Offset-1, 0))
		field := typ.Field
		if field == "" {
			field = "(top level)"
		}
		return fmt.Errorf("%s:%d: %s: a JSON %s where a %s belongs", source, l, field, typ.Value, goTypeWord(typ.Type.String()))
	}
	return fmt.Errorf("%s: %v", source, err)
}

func goTypeWord(t string) string {
	switch {
	case strings.HasPrefix(t, "uint"), strings.HasPrefix(t, "int"), strings.HasPrefix(t, "*uint"):
		return "number"
	case strings.HasPrefix(t, "[]"):
		return "list"
	case t == "string", strings.HasSuffix(t, "Action"), strings.HasSuffix(t, "Operator"):
		return "string"
	}
	return "object"
}

func lineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// ruleLines finds the line on which each element of "syscalls" starts, so
// that errors found after decoding can still point into the file.
func ruleLines(data []byte) []int {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil
		}
		if k != "syscalls" {
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return nil
			}
			continue
		}
		if t, err := dec.Token(); err != nil || t != json.Delim('[') {
			return nil
		}
		var lines []int
		for dec.More() {
			off := dec.InputOffset()
			for off < int64(len(data)) && strings.IndexByte(" \t\r\n,", data[off]) >= 0 {
				off++
			}
			l, _ := lineCol(data, off)
			lines = append(lines, l)
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return lines
			}
		}
		return lines
	}
	return nil
}
