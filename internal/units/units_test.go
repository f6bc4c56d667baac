package units

import "testing"

// The cases and the error texts are what `docker run -m VALUE` and
// `docker run --cpus VALUE` answered with Docker's CLI 28.2 on this
// machine (go-units v0.5); each row is one of those answers.
func TestRAMInBytesLikeDocker(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		err  string
	}{
		{"33554432", 33554432, ""},
		{"32m", 32 << 20, ""},
		{"32M", 32 << 20, ""},
		{"64mb", 64 << 20, ""},
		{"64MiB", 64 << 20, ""},
		{"512kb", 512 << 10, ""},
		{"1kib", 1 << 10, ""},
		{"1.5g", 3 << 29, ""},
		{"1 m", 1 << 20, ""},
		{"1e3", 1000, ""},
		{"100b", 100, ""},
		{"1t", 1 << 40, ""},
		{"1p", 1 << 50, ""},
		{"0", 0, ""},
		{"10XB", -1, "invalid suffix: 'xb'"},
		{"1bb", -1, "invalid suffix: 'bb'"},
		{"5mibb", -1, "invalid suffix: 'mibb'"},
		{"-5m", -1, "invalid size: '-5m'"},
		{"m", -1, "invalid size: 'm'"},
		{"", -1, "invalid size: ''"},
		{"1.2.3", -1, `strconv.ParseFloat: parsing "1.2.3": invalid syntax`},
		{"0x10", -1, `strconv.ParseFloat: parsing "0x10": invalid syntax`},
		{" 5m", -1, `strconv.ParseFloat: parsing " 5": invalid syntax`},
		{"5m ", -1, `strconv.ParseFloat: parsing "5m": invalid syntax`},
	} {
		got, err := RAMInBytes(c.in)
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if got != c.want || msg != c.err {
			t.Errorf("RAMInBytes(%q) = %d, %q; want %d, %q", c.in, got, msg, c.want, c.err)
		}
	}
}

func TestNanoCPUsLikeDocker(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		err  string
	}{
		{"0.5", 5e8, ""},
		{"2", 2e9, ""},
		{"1/2", 5e8, ""},
		{"1e-3", 1e6, ""},
		{"-1", -1e9, ""}, // the daemon refuses it, not the parser
		{"abc", 0, "failed to parse abc as a rational number"},
		{" 1", 0, "failed to parse  1 as a rational number"},
		{"0.0000000001", 0, "value is too precise"},
	} {
		got, err := NanoCPUs(c.in)
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if got != c.want || msg != c.err {
			t.Errorf("NanoCPUs(%q) = %d, %q; want %d, %q", c.in, got, msg, c.want, c.err)
		}
	}
}

func TestCheckNanoCPUs(t *testing.T) {
	for _, c := range []struct {
		nano int64
		ok   bool
	}{{0, true}, {1e7, true}, {2e9, true}, {1e7 - 1, false}, {2e9 + 1, false}, {-1e9, false}} {
		if err := CheckNanoCPUs(c.nano, 2); (err == nil) != c.ok {
			t.Errorf("CheckNanoCPUs(%d, 2) = %v, want ok=%v", c.nano, err, c.ok)
		}
	}
}
