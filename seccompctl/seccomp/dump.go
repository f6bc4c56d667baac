package seccomp

import (
	"fmt"
	"sort"
	"strings"
)

// Dump prints a compiled profile as readable BPF assembly: a header that
// says for which process it was compiled and what was left out, then one
// instruction a line with the compiler's comments. Its output is stable
// (a golden test holds it), so a learner can diff two profiles.
func Dump(p *Profile, r *Resolved, prog *Program) string {
	var b strings.Builder
	fmt.Fprintf(&b, "; profile %s, compiled for %s (%s), kernel %s\n", p.Source, r.Arch.Name, r.Arch.AuditName, r.Kernel)
	fmt.Fprintf(&b, "; capabilities kept: %s\n", capsString(r.Caps))
	fmt.Fprintf(&b, "; default action: %s; %s for %s; %s\n", RetString(r.DefaultRet),
		plural(len(r.Rules), "rule"), plural(countNrs(r.Rules), "system call"), plural(len(prog.Insns), "instruction"))
	if len(r.OtherArches) > 0 {
		wrap(&b, "; other architectures the profile lists, killed anyway (only the native ABI passes): ", r.OtherArches)
	}
	if len(r.NotOnArch) > 0 {
		wrap(&b, fmt.Sprintf("; skipped, no such system call on %s: ", r.Arch.Name), r.NotOnArch)
	}
	if len(r.Unknown) > 0 {
		wrap(&b, "; skipped, unknown system calls: ", r.Unknown)
	}
	b.WriteString(";\n")
	b.WriteString(";    line: instruction (jumps go to the line numbers shown)\n")
	b.WriteString(prog.Disassemble())
	return b.String()
}

func capsString(caps map[string]bool) string {
	if len(caps) == 0 {
		return "none"
	}
	l := make([]string, 0, len(caps))
	for c := range caps {
		l = append(l, strings.TrimPrefix(c, "CAP_"))
	}
	sort.Strings(l)
	return strings.Join(l, ",")
}

func countNrs(rules []Rule) int {
	m := map[uint32]bool{}
	for _, r := range rules {
		m[r.Nr] = true
	}
	return len(m)
}

// wrap writes a list after prefix, continuing on ";   " lines at 100 columns.
func wrap(b *strings.Builder, prefix string, items []string) {
	line := prefix
	for i, it := range items {
		sep := ", "
		if i == len(items)-1 {
			sep = ""
		}
		if len(line)+len(it)+len(sep) > 100 && line != prefix {
			b.WriteString(strings.TrimRight(line, " ") + "\n")
			line = ";   "
		}
		line += it + sep
	}
	b.WriteString(line + "\n")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
