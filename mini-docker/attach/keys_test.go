package attach

import (
	"bytes"
	"strings"
	"testing"
)

// Docker's --detach-keys: one character or ctrl-X per key.
func TestParseDetachKeys(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []byte
	}{
		{"ctrl-p,ctrl-q", []byte{16, 17}},
		{"ctrl-x,x", []byte{24, 'x'}},
		{"CTRL-A", []byte{1}},
		{"ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_", []byte{0, 27, 28, 29, 30, 31}},
		{"a,b,c", []byte("abc")},
	} {
		got, err := ParseDetachKeys(tc.in)
		if err != nil || !bytes.Equal(got, tc.want) {
			t.Errorf("ParseDetachKeys(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "ctrl-xx", "ctrl-", "ab", "ctrl-1", "ctrl-p,,ctrl-q", "ctrl-`"} {
		if _, err := ParseDetachKeys(bad); err == nil || err.Error() != "Invalid detach keys ("+bad+") provided" {
			t.Errorf("ParseDetachKeys(%q): %v; want Docker's \"Invalid detach keys\"", bad, err)
		}
	}
}

// The detach sequence is held back while it may still complete, and
// passed on as typed once it breaks.
func TestEscapeProxy(t *testing.T) {
	for _, tc := range []struct {
		feeds  []string
		sent   string
		detach bool
	}{
		{[]string{"ls\r"}, "ls\r", false},
		{[]string{"a\x10\x11b"}, "a", true},
		{[]string{"a\x10", "\x11"}, "a", true},
		{[]string{"\x10x"}, "\x10x", false},
		{[]string{"\x10\x10\x11"}, "\x10", true},
		{[]string{"\x10"}, "", false}, // held: it may still complete
	} {
		e := &escapeProxy{keys: []byte{16, 17}}
		var sent []byte
		detach := false
		for _, f := range tc.feeds {
			out, d := e.feed([]byte(f))
			sent = append(sent, out...)
			if d {
				detach = true
				break
			}
		}
		if string(sent) != tc.sent || detach != tc.detach {
			t.Errorf("%q: sent %q, detach %v; want %q, %v", tc.feeds, sent, detach, tc.sent, tc.detach)
		}
	}
}

// FuzzDetachKeys: any accepted --detach-keys has one key per comma-
// separated part; through the proxy, input that never completes the
// sequence comes out as typed, less the prefix still held, and input
// with the sequence appended always detaches.
func FuzzDetachKeys(f *testing.F) {
	f.Add("ctrl-p,ctrl-q", []byte("echo hi\r\x10x"), 3)
	f.Add("a,b,a,c", []byte("ababac"), 1)
	f.Fuzz(func(t *testing.T, spec string, input []byte, split int) {
		keys, err := ParseDetachKeys(spec)
		if err != nil {
			return
		}
		if len(keys) != len(strings.Split(spec, ",")) {
			t.Fatalf("%q: %d keys", spec, len(keys))
		}
		if split < 0 || split > len(input) {
			split = len(input) / 2
		}
		e := &escapeProxy{keys: keys}
		a, d1 := e.feed(input[:split])
		if d1 {
			return // the sequence is in the input
		}
		b, d2 := e.feed(input[split:])
		if d2 {
			return
		}
		got := append(append(a, b...), keys[:e.held]...)
		if !bytes.Equal(got, input) {
			t.Fatalf("keys %v, input %q: sent %q, holding %d", keys, input, got, e.held)
		}
		if _, d := e.feed(keys); !d {
			// the held prefix plus the sequence must contain it.
			t.Fatalf("keys %v after %q: the sequence did not detach", keys, input)
		}
	})
}
