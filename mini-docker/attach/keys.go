package attach

import (
	"bytes"
	"fmt"
	"strings"
)

// DefaultDetachKeys is Docker's detach sequence.
const DefaultDetachKeys = "ctrl-p,ctrl-q"

// ParseDetachKeys reads a detach sequence as Docker's --detach-keys
// does: keys separated by commas, each one character or ctrl-X where X
// is a letter or one of @ [ \ ] ^ _ (the control codes 0 to 31).
func ParseDetachKeys(s string) ([]byte, error) {
	var keys []byte
	for _, k := range strings.Split(s, ",") {
		switch {
		case len(k) == 1:
			keys = append(keys, k[0])
		case len(k) == 6 && strings.HasPrefix(strings.ToLower(k), "ctrl-"):
			c := strings.ToLower(k)[5]
			switch {
			case c >= 'a' && c <= 'z':
				keys = append(keys, c-'a'+1)
			case c == '@' || (c >= '[' && c <= '_'):
				keys = append(keys, c-'@')
			default:
				return nil, invalidKeys(s)
			}
		default:
			return nil, invalidKeys(s)
		}
	}
	return keys, nil
}

func invalidKeys(s string) error {
	//lint:ignore ST1005 Docker's own words, as dockerd answers them
	return fmt.Errorf("Invalid detach keys (%s) provided", s)
}

// escapeProxy passes the user's keystrokes on, holding back a prefix of
// the detach sequence until it is either complete (then the user
// detaches, and none of it is sent) or broken (then the held keys go
// on, as typed): Docker's term.EscapeProxy.
type escapeProxy struct {
	keys []byte
	held int // how many of keys the input ended on
}

// feed takes the next keystrokes and returns what to send on, and
// whether the sequence is complete. On a key that breaks the held
// prefix, the longest end of (prefix + key) that starts the sequence
// is held on (with ctrl-p ctrl-p ctrl-q, the second ctrl-p still
// counts), and the rest is sent.
func (e *escapeProxy) feed(p []byte) (out []byte, detach bool) {
	for _, b := range p {
		if len(e.keys) == 0 {
			out = append(out, b)
			continue
		}
		if b == e.keys[e.held] {
			e.held++
		} else {
			typed := append(append([]byte{}, e.keys[:e.held]...), b)
			k := len(typed) - 1
			for k > 0 && !bytes.Equal(typed[len(typed)-k:], e.keys[:k]) {
				k--
			}
			out = append(out, typed[:len(typed)-k]...)
			e.held = k
		}
		if e.held == len(e.keys) {
			return out, true
		}
	}
	return out, false
}
