package healthcheck_test

import (
	"reflect"
	"testing"

	"mini-docker/mini-docker/dockerfile"
	"mini-docker/mini-docker/dockerfile/healthcheck"
)

// TestParseHealthcheck: HEALTHCHECK's forms and flags become Docker's
// HealthConfig, and its history line is the one Docker 20.10's classic
// builder wrote for the same instruction.
func TestParse(t *testing.T) {
	ins, err := dockerfile.Parse("FROM x\nHEALTHCHECK --interval=5s --retries=2 CMD wget -q localhost || exit 1\n" +
		"HEALTHCHECK --timeout=1m CMD [\"/bin/check\", \"-q\"]\nHEALTHCHECK NONE\n")
	if err != nil {
		t.Fatal(err)
	}
	hc, err := healthcheck.Parse(ins[1].Flags, ins[1].Args)
	if err != nil {
		t.Fatal(err)
	}
	// docker history --no-trunc of an image docker build made (26.1.5;
	// 20.10.24 wrote no start interval, the fourth duration).
	if got, want := healthcheck.Describe(hc), `HEALTHCHECK &{["CMD-SHELL" "wget -q localhost || exit 1"] "5s" "0s" "0s" "0s" '\x02'}`; got != want {
		t.Errorf("history line\n got %s\nwant %s", got, want)
	}
	hc, err = healthcheck.Parse(ins[2].Flags, ins[2].Args)
	if err != nil || !reflect.DeepEqual(hc.Test, []string{"CMD", "/bin/check", "-q"}) || hc.Timeout.String() != "1m0s" {
		t.Errorf("exec form: %+v %v", hc, err)
	}
	if hc, err = healthcheck.Parse(ins[3].Flags, ins[3].Args); err != nil || !reflect.DeepEqual(hc.Test, []string{"NONE"}) {
		t.Errorf("NONE: %+v %v", hc, err)
	}
	for _, bad := range []struct {
		flags []string
		args  string
	}{
		{nil, "CMD"}, {nil, "RUN true"}, {[]string{"--retries=-1"}, "CMD true"}, {[]string{"--interval=1us"}, "CMD true"},
		{[]string{"--color=red"}, "CMD true"}, {[]string{"--interval=5s"}, "NONE"},
	} {
		if hc, err := healthcheck.Parse(bad.flags, bad.args); err == nil {
			t.Errorf("HEALTHCHECK %v %s accepted: %+v", bad.flags, bad.args, hc)
		}
	}
}

// FuzzHealthcheck: HEALTHCHECK's reader never panics, and what it
// accepts is a test Docker can run: NONE alone, CMD with its words, or
// CMD-SHELL with one non-empty command; no negative retries.
func FuzzHealthcheck(f *testing.F) {
	for _, seed := range []string{"CMD true", "NONE", `CMD ["a", "b"]`, "CMD", "cmd [", "none x", "RUN x"} {
		f.Add("--interval=5s", seed)
		f.Add("--retries=-3", seed)
	}
	f.Fuzz(func(t *testing.T, flag, args string) {
		hc, err := healthcheck.Parse([]string{flag}, args)
		if err != nil {
			return
		}
		switch {
		case len(hc.Test) == 0:
			t.Fatal("accepted an empty test")
		case hc.Test[0] == "NONE" && len(hc.Test) != 1:
			t.Fatalf("NONE with words: %q", hc.Test)
		case hc.Test[0] == "CMD-SHELL" && (len(hc.Test) != 2 || hc.Test[1] == ""):
			t.Fatalf("CMD-SHELL test %q", hc.Test)
		case hc.Test[0] != "NONE" && hc.Test[0] != "CMD" && hc.Test[0] != "CMD-SHELL":
			t.Fatalf("test kind %q", hc.Test[0])
		case hc.Retries < 0 || hc.Interval < 0 || hc.Timeout < 0 || hc.StartPeriod < 0 || hc.StartInterval < 0:
			t.Fatalf("negative setting: %+v", hc)
		}
	})
}
