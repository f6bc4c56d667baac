package runtime

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseSize parses a size the way Docker's -m/--memory does (go-units
// RAMInBytes): a number with an optional b, k, m, g, t or p suffix
// (optionally followed by "b" or "ib"), in powers of 1024.
func ParseSize(s string) (int64, error) {
	orig := s
	s = strings.ToLower(strings.TrimSpace(s))
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	num, unit := s[:i], s[i:]
	if num == "" {
		return 0, fmt.Errorf("invalid size: '%s'", orig)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size: '%s'", orig)
	}
	unit = strings.TrimSuffix(strings.TrimSuffix(unit, "ib"), "b")
	mult := map[string]float64{"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
	m, ok := mult[unit]
	if !ok {
		return 0, fmt.Errorf("invalid size: '%s'", orig)
	}
	return int64(v * m), nil
}

// ParseCPUs turns --cpus (a decimal number of CPUs) into NanoCpus.
func ParseCPUs(s string) (int64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("failed to parse %s as a rational number", s)
	}
	return int64(v * 1e9), nil
}
