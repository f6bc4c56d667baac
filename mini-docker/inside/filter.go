package inside

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"mini-docker/mini-docker/inside/input"
	"mini-docker/seccompctl/seccomp"
)

// The seccomp filter of a run, compiled by mini-docker.
//
// seccompctl run reads its profile and compiles it for the capabilities
// the container keeps: for Docker's default profile, about 1,200 BPF
// instructions and a millisecond or more of CPU, which the container's
// first process would spend just before its exec. mini-docker compiles
// the same program instead (SendFilter), right after it started
// mini-docker-inside, while the child's Go runtime starts, joins the
// cgroup and pivots: on two CPUs both run at once. The program comes on
// a pipe (FilterFd), with the profile's warnings or its error, which the
// child reports where seccompctl run would, after the pivot. The profile
// file is read from the host, as seccompctl run reads it before the
// pivot. docker exec's process (exec.go) still compiles its own.

// FilterFd is the descriptor mini-docker-inside reads its run's filter
// from (unless unconfined): after the configuration, the status and -t's
// console socket (closed without -t).
const FilterFd = 6

// filterMessage heads what SendFilter writes: the profile's warnings,
// or the error that stopped the compile, as one line of JSON. The
// program follows the line's newline, 8 bytes per instruction as the
// kernel's struct sock_filter lays them out, to EOF: as a JSON string
// (base64) the child would scan each of its bytes, about 13 KB for
// Docker's profile, to read what is already the kernel's format.
type filterMessage struct {
	Warnings []string `json:"Warnings,omitempty"`
	Error    string   `json:"Error,omitempty"`
}

// SendFilter compiles in's seccomp profile as seccompctl run does and
// writes it to w for mini-docker-inside: mini-docker runs it while the
// child starts. A profile that fails to compile is written as its error,
// for the child to report; SendFilter's own error is w's.
func SendFilter(w io.Writer, in *input.Inside) error {
	var m filterMessage
	prog, warnings, err := buildFilter(in)
	m.Warnings = warnings
	if err != nil {
		m.Error = err.Error()
	}
	b, err := json.Marshal(m) // one line: JSON escapes any newline
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if m.Error == "" && prog != nil {
		for _, f := range prog.Insns {
			b = binary.LittleEndian.AppendUint16(b, f.Code)
			b = append(b, f.Jt, f.Jf)
			b = binary.LittleEndian.AppendUint32(b, f.K)
		}
	}
	_, err = w.Write(b)
	return err
}

// receiveFilter reads the run's filter from FilterFd to EOF (nil when
// unconfined: nothing was sent) and prints the profile's warnings as
// seccompctl run does.
func receiveFilter(in *input.Inside) (*seccomp.Program, error) {
	if in.Seccomp == "unconfined" {
		return nil, nil
	}
	f := os.NewFile(FilterFd, "filter")
	// Room for Docker's profile at once: a read, then the EOF.
	var buf bytes.Buffer
	buf.Grow(16 << 10)
	_, err := buf.ReadFrom(f)
	f.Close()
	head, insns, found := bytes.Cut(buf.Bytes(), []byte{'\n'})
	var m filterMessage
	if err == nil && !found {
		err = io.ErrUnexpectedEOF
	}
	if err == nil {
		err = json.Unmarshal(head, &m)
	}
	if err != nil {
		return nil, fmt.Errorf("read the seccomp filter: %w", err)
	}
	printWarnings(m.Warnings)
	if m.Error != "" {
		return nil, fmt.Errorf("%s", m.Error) // the compile's error, word for word
	}
	if len(insns) == 0 || len(insns)%8 != 0 {
		return nil, fmt.Errorf("read the seccomp filter: %d bytes, not a program", len(insns))
	}
	prog := &seccomp.Program{Insns: make([]unix.SockFilter, len(insns)/8)}
	for i := range prog.Insns {
		b := insns[8*i:]
		prog.Insns[i] = unix.SockFilter{Code: binary.LittleEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.LittleEndian.Uint32(b[4:])}
	}
	return prog, nil
}

// buildFilter is seccompctl run's profile compiled for the capabilities
// the container keeps (nil when unconfined), and the profile's warnings.
func buildFilter(in *input.Inside) (*seccomp.Program, []string, error) {
	if in.Seccomp == "unconfined" {
		return nil, nil, nil
	}
	set, err := seccomp.ParseCaps(strings.Join(in.SeccompCaps, ","))
	if err != nil {
		return nil, nil, err
	}
	profile, err := seccomp.LoadProfile(in.Seccomp)
	if err != nil {
		return nil, nil, err
	}
	r, prog, err := seccomp.Build(profile, seccomp.Options{Caps: set})
	if err != nil {
		return nil, nil, err
	}
	return prog, seccomp.Warnings(profile, r), nil
}

// loadFilter is seccompctl run's profile, read and compiled here, its
// warnings printed (docker exec's process).
func loadFilter(in *input.Inside) (*seccomp.Program, error) {
	prog, warnings, err := buildFilter(in)
	printWarnings(warnings)
	return prog, err
}

func printWarnings(warnings []string) {
	for _, w := range warnings {
		fmt.Fprintln(os.Stderr, "seccompctl: warning:", w)
	}
}
