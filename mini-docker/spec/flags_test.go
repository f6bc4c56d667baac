package spec

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/moby/moby/api/types/network"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestMemoryFlagError(t *testing.T) {
	o := &Options{Memory: "10XB"}
	_, err := o.ParseLimits()
	want := `invalid argument "10XB" for "-m, --memory" flag: invalid suffix: 'xb'`
	if err == nil || err.Error() != want {
		t.Fatalf("ParseLimits = %v, want %s", err, want)
	}
}

func TestContainerEnvLikeDocker(t *testing.T) {
	got := ContainerEnv("abc123", true, []string{"PATH=/img/bin", "LANG=C.UTF-8"}, []string{"FOO=bar", "LANG=fr"}, "/root")
	want := []string{"PATH=/img/bin", "HOSTNAME=abc123", "TERM=xterm", "LANG=fr", "FOO=bar", "HOME=/root"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ContainerEnv = %q\nwant %q", got, want)
	}
	got = ContainerEnv("h", false, nil, []string{"HOME=/x"}, "/root")
	want = []string{"PATH=" + DefaultPath, "HOSTNAME=h", "HOME=/x"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ContainerEnv = %q, want %q", got, want)
	}
}

func TestArgvEntrypointRules(t *testing.T) {
	img := ocispec.ImageConfig{Entrypoint: []string{"/entry"}, Cmd: []string{"default"}}
	empty := ""
	sh := "sh"
	for _, tc := range []struct {
		name       string
		o          Options
		entry, cmd []string
	}{
		{"image", Options{}, []string{"/entry"}, []string{"default"}},
		{"args replace Cmd", Options{Args: []string{"x"}}, []string{"/entry"}, []string{"x"}},
		{"--entrypoint drops Cmd", Options{Entrypoint: &sh}, []string{"sh"}, nil},
		{"--entrypoint '' with args", Options{Entrypoint: &empty, Args: []string{"ls"}}, nil, []string{"ls"}},
	} {
		e, c, err := tc.o.Argv(img)
		if err != nil || !reflect.DeepEqual(e, tc.entry) || !reflect.DeepEqual(c, tc.cmd) {
			t.Errorf("%s: Argv = %q %q %v", tc.name, e, c, err)
		}
	}
	if _, _, err := (&Options{}).Argv(ocispec.ImageConfig{}); err == nil {
		t.Error("no command at all: want an error")
	}
}

func TestEffectiveCaps(t *testing.T) {
	dockerDefault := []string{"CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
		"NET_BIND_SERVICE", "NET_RAW", "SYS_CHROOT", "MKNOD", "AUDIT_WRITE", "SETFCAP"} // bit order
	all, err := EffectiveCaps(CapSpec{Privileged: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    CapSpec
		want []string
	}{
		{"default", CapSpec{}, dockerDefault},
		{"drop ALL add NET_BIND_SERVICE", CapSpec{CapDrop: []string{"ALL"}, CapAdd: []string{"net_bind_service"}}, []string{"NET_BIND_SERVICE"}},
		{"add two drop CAP_CHOWN", CapSpec{CapAdd: []string{"SYS_ADMIN", "NET_ADMIN"}, CapDrop: []string{"CAP_CHOWN"}},
			[]string{"DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP", "NET_BIND_SERVICE",
				"NET_ADMIN", "NET_RAW", "SYS_CHROOT", "SYS_ADMIN", "MKNOD", "AUDIT_WRITE", "SETFCAP"}},
		// Docker: ALL in --cap-add is every capability, then --cap-drop
		// still removes (the copy this replaced returned ALL here).
		{"add ALL drop NET_RAW", CapSpec{CapAdd: []string{"ALL"}, CapDrop: []string{"NET_RAW"}}, without(all, "NET_RAW")},
	} {
		got, err := EffectiveCaps(tc.c)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s = %v, %v\nwant %v", tc.name, got, err, tc.want)
		}
	}
	if len(all) < 38 || all[0] != "CHOWN" {
		t.Errorf("privileged = %v, want every capability", all)
	}
	if _, err := EffectiveCaps(CapSpec{CapAdd: []string{"NOT_A_CAP"}}); err == nil {
		t.Error("--cap-add NOT_A_CAP: want an error")
	}
}

func without(list []string, x string) []string {
	var out []string
	for _, s := range list {
		if s != x {
			out = append(out, s)
		}
	}
	return out
}

func TestParsePublish(t *testing.T) {
	o := &Options{Publish: []string{"127.0.0.1:8080:80", "5353:53/udp"}}
	ps, err := o.ParsePublish()
	if err != nil {
		t.Fatal(err)
	}
	want := network.PortMap{
		network.MustParsePort("80/tcp"): {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "8080"}},
		network.MustParsePort("53/udp"): {{HostIP: netip.MustParseAddr("0.0.0.0"), HostPort: "5353"}},
	}
	if !reflect.DeepEqual(ps, want) {
		t.Errorf("ParsePublish = %+v", ps)
	}
	// -p 80: a free host port, picked at start (HostPort "").
	if ps, err := (&Options{Publish: []string{"80"}}).ParsePublish(); err != nil || ps[network.MustParsePort("80/tcp")][0].HostPort != "" {
		t.Errorf("ParsePublish(80) = %+v, %v; want a binding with no host port", ps, err)
	}
	for _, bad := range []string{"x:80", "1:2:3:4", "8080:80/sctp", "8080:0"} {
		if _, err := (&Options{Publish: []string{bad}}).ParsePublish(); err == nil {
			t.Errorf("ParsePublish(%q): want an error", bad)
		}
	}
}

// TestNoNewPrivilegesValue: no-new-privileges takes a boolean as
// Docker's daemon reads it (strconv.ParseBool); anything else is its
// "invalid --security-opt 2" error, not silently false.
func TestNoNewPrivilegesValue(t *testing.T) {
	for opt, want := range map[string]bool{"no-new-privileges": true, "no-new-privileges=true": true, "no-new-privileges=1": true,
		"no-new-privileges=false": false, "no-new-privileges:true": true} {
		if s, err := ParseSecurityOpt([]string{opt}, false); err != nil || s.NoNewPrivs != want {
			t.Errorf("%s: %v, %v; want %v", opt, s.NoNewPrivs, err, want)
		}
	}
	if _, err := ParseSecurityOpt([]string{"no-new-privileges=bogus"}, false); err == nil || err.Error() != `invalid --security-opt 2: "no-new-privileges=bogus"` {
		t.Errorf("no-new-privileges=bogus: %v", err)
	}
}
