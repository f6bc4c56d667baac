//go:build !amd64

package riskycalls

import "errors"

// Int80Getpid exists only on amd64.
func Int80Getpid() (int, error) { return 0, errors.New("int 0x80 exists only on x86_64") }

func int81() {}

// HasInt80 reports whether this architecture has a 32-bit entry point.
const HasInt80 = false
