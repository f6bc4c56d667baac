package compare

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Column widths of the table; longer values are cut with "…" (--json
// has them whole).
const (
	keyWidth   = 34
	valueWidth = 28
)

// WriteTable prints the side-by-side table, the timing and the counts.
func (r *Report) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "%s  %s  %s  %s\n", pad("KEY", keyWidth), pad("DOCKER "+r.DockerVersion, valueWidth), pad("MINI-DOCKER", valueWidth), "")
	for _, row := range r.Rows {
		line := fmt.Sprintf("%s  %s  %s  %s", pad(row.Key, keyWidth), pad(row.Docker, valueWidth), pad(row.Mini, valueWidth), row.Mark)
		if row.Why != "" && row.Mark != Same {
			line += " " + row.Why
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	fmt.Fprintf(w, "\ndocker run: %.3fs  mini-docker run: %.3fs  ratio mini-docker/docker: %.2f\n",
		r.Docker.Elapsed.Seconds(), r.Mini.Elapsed.Seconds(), r.Ratio)
	fmt.Fprintf(w, "%d ✓ same  %d ~ differ where they must  %d ✗ differ\n", r.Same, r.Must, r.Differs)
}

// WriteJSON prints the whole report as JSON, values uncut.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// Failed lists the ✗ rows.
func (r *Report) Failed() []Row {
	var bad []Row
	for _, row := range r.Rows {
		if row.Mark == Differs {
			bad = append(bad, row)
		}
	}
	return bad
}

// pad cuts s to n runes (ending in "…") or pads it with spaces; tabs
// become spaces so columns stay aligned.
func pad(s string, n int) string {
	s = strings.ReplaceAll(s, "\t", " ")
	if utf8.RuneCountInString(s) > n {
		r := []rune(s)
		return string(r[:n-1]) + "…"
	}
	return s + strings.Repeat(" ", n-utf8.RuneCountInString(s))
}
