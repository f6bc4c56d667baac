// Package units parses the quantities Docker's CLI takes, with Docker's
// own grammar, for every tool of the toolkit: sizes (-m 32m, --shm-size
// 64m, --memory-swap 1g) and CPUs (--cpus 0.5). Lesson 03
// (lessons/03-cgroups.md) is where they first meet the kernel, as
// memory.limit_in_bytes and cpu.cfs_quota_us.
package units

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// RAMInBytes parses a size the way `docker run -m` does (go-units'
// RAMInBytes): a decimal number, one optional space, then an optional unit
// b, k, m, g, t or p in any case, which may be followed by "b" or "ib"
// ("32m", "1.5g", "64MiB", "512kb", "1 m"). Units are powers of 1024; the
// fraction of a byte is dropped. The errors are Docker's: "invalid size:
// '-5m'", "invalid suffix: 'xb'", or strconv's for a number it cannot read.
func RAMInBytes(s string) (int64, error) {
	sep := strings.LastIndexAny(s, "0123456789. ")
	if sep == -1 {
		return -1, fmt.Errorf("invalid size: '%s'", s)
	}
	num, sfx := s[:sep+1], s[sep+1:]
	if s[sep] == ' ' { // the one space between number and unit
		num = s[:sep]
	}
	size, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return -1, err
	}
	if size < 0 {
		return -1, fmt.Errorf("invalid size: '%s'", s)
	}
	if sfx == "" {
		return int64(size), nil
	}
	low := strings.ToLower(sfx)
	shift := strings.IndexByte("bkmgtp", low[0])
	switch {
	case len(low) > 3 || shift == -1,
		shift == 0 && len(low) > 1, // nothing may follow b
		len(low) == 2 && low[1] != 'b',
		len(low) == 3 && low[1:] != "ib":
		return -1, fmt.Errorf("invalid suffix: '%s'", low)
	}
	return int64(size * float64(int64(1)<<(10*shift))), nil
}

// NanoCPUs parses --cpus the way Docker's CLI does: a rational number of
// CPUs ("0.5", "1.25", even "1/2"), returned in billionths of a CPU, the
// unit of HostConfig.NanoCpus. It does not check the range; the daemon
// does that (CheckNanoCPUs).
func NanoCPUs(s string) (int64, error) {
	cpu, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, fmt.Errorf("failed to parse %v as a rational number", s)
	}
	nano := cpu.Mul(cpu, big.NewRat(1e9, 1))
	if !nano.IsInt() {
		return 0, fmt.Errorf("value is too precise")
	}
	return nano.Num().Int64(), nil
}

// CheckNanoCPUs is the daemon's range check of NanoCpus on a host with
// ncpu CPUs: 0 means no limit, otherwise 0.01 CPU to all of them.
func CheckNanoCPUs(nano int64, ncpu int) error {
	if nano != 0 && (nano < 1e7 || nano > int64(ncpu)*1e9) {
		//lint:ignore ST1005 the daemon's own words, as docker prints them
		return fmt.Errorf("Range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", ncpu, ncpu)
	}
	return nil
}
