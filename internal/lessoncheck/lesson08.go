package lessoncheck

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"mini-docker/internal/lessoncheck/probe"
)

// checks0801 are exercise 08.1's checks.
func checks0801(s *State) []Check {
	d := s.Path("bb")
	var m ocispec.Manifest
	manifest := func() error {
		b, err := os.ReadFile(d + "/manifest.json")
		if err != nil {
			return probe.NotThere(err)
		}
		m = ocispec.Manifest{}
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("manifest.json is not JSON: %v", err)
		}
		if m.Config.Digest == "" || len(m.Layers) == 0 {
			return fmt.Errorf("manifest.json names no config or no layer")
		}
		return nil
	}
	return []Check{
		{What: "bb/manifest.json is an image manifest", Cmd: "jq . " + d + "/manifest.json",
			Hint: "curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' http://$REGISTRY/v2/library/busybox/manifests/latest > bb/manifest.json",
			Test: manifest},
		{What: "bb/config.json is the config it names, digest verified", Cmd: "sha256sum " + d + "/config.json; jq -r .config.digest " + d + "/manifest.json",
			Hint: "curl -s http://$REGISTRY/v2/library/busybox/blobs/$(jq -r .config.digest bb/manifest.json) > bb/config.json",
			Test: func() error {
				if manifest() != nil {
					return fmt.Errorf("no manifest yet")
				}
				return digestIs(d+"/config.json", string(m.Config.Digest))
			}},
		{What: "bb/layer.tar.gz is its first layer, digest verified", Cmd: "sha256sum " + d + "/layer.tar.gz; jq -r '.layers[0].digest' " + d + "/manifest.json",
			Hint: "curl -s http://$REGISTRY/v2/library/busybox/blobs/$(jq -r '.layers[0].digest' bb/manifest.json) > bb/layer.tar.gz",
			Test: func() error {
				if manifest() != nil {
					return fmt.Errorf("no manifest yet")
				}
				return digestIs(d+"/layer.tar.gz", string(m.Layers[0].Digest))
			}},
		{What: "the config's first diff ID is the hash of the uncompressed layer", Cmd: "zcat " + d + "/layer.tar.gz | sha256sum; jq -r '.rootfs.diff_ids[0]' " + d + "/config.json",
			Hint: "the diff ID covers the tar, the digest the gzip: both come from the same registry blob",
			Test: func() error { return diffIDMatches(d+"/config.json", d+"/layer.tar.gz") }},
		{What: "bb/rootfs holds the layer, unpacked", Cmd: "ls -l " + d + "/rootfs/bin/busybox",
			Hint: "mkdir bb/rootfs && tar -xzf bb/layer.tar.gz -C bb/rootfs",
			Test: func() error { return executable(d + "/rootfs/bin/busybox") }},
	}
}

// checks0802 are exercise 08.2's checks.
func checks0802(s *State) []Check {
	root := s.Path("bb/rootfs")
	return searchChecks("running with bb/rootfs as its root", []procCheck{
		{What: "a process runs with bb/rootfs as its root", Cmd: "for p in /proc/[0-9]*; do [ $p/root -ef " + root + " ] && echo $p; done",
			Hint: "unshare --mount --pid --uts --hostname bb -- chroot --pivot bb/rootfs -- /bin/sleep 300 &",
			Test: func(p probe.Proc) error {
				if !probe.SameFile(fmt.Sprintf("/proc/%d/root", p.PID), root) {
					return probe.ErrSkip
				}
				return nil
			}},
		{What: "in a mount namespace of its own", Cmd: "readlink /proc/PID/ns/mnt /proc/self/ns/mnt",
			Hint: "unshare --mount, and chroot --pivot rather than a plain chroot",
			Test: func(p probe.Proc) error {
				if !probe.OwnNS(p.PID, "mnt") {
					return fmt.Errorf("it shares the host's mount namespace")
				}
				return nil
			}},
		{What: "as PID 1 of a PID namespace of its own", Cmd: "grep NSpid /proc/PID/status",
			Hint: "unshare --pid", Test: probe.Proc.PID1},
		{What: "with the host name bb", Cmd: "nsenter --uts --target PID hostname",
			Hint: "unshare --uts --hostname bb",
			Test: func(p probe.Proc) error {
				name, err := probe.HostnameOf(p.PID)
				if err != nil {
					return err
				}
				if !probe.OwnNS(p.PID, "uts") || name != "bb" {
					return fmt.Errorf("its host name is %q", name)
				}
				return nil
			}},
	})
}

// sha256File returns "sha256:HEX" of a file's bytes, or of what r gives.
func sha256Of(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// digestIs checks that a file's sha256 is digest.
func digestIs(path, digest string) error {
	f, err := os.Open(path)
	if err != nil {
		return probe.NotThere(err)
	}
	defer f.Close()
	got, err := sha256Of(f)
	if err != nil {
		return err
	}
	if got != digest {
		return fmt.Errorf("its sha256 is %s, the manifest says %s", got, digest)
	}
	return nil
}

// diffIDMatches checks the config's first diff ID against the hash of
// the gunzipped layer.
func diffIDMatches(config, layer string) error {
	b, err := os.ReadFile(config)
	if err != nil {
		return probe.NotThere(err)
	}
	var c ocispec.Image
	if err := json.Unmarshal(b, &c); err != nil {
		return fmt.Errorf("config.json is not JSON: %v", err)
	}
	if len(c.RootFS.DiffIDs) == 0 {
		return fmt.Errorf("config.json has no diff IDs")
	}
	f, err := os.Open(layer)
	if err != nil {
		return probe.NotThere(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s is not gzip: %v", layer, err)
	}
	got, err := sha256Of(z)
	if err != nil {
		return fmt.Errorf("gunzip %s: %v", layer, err)
	}
	if got != string(c.RootFS.DiffIDs[0]) {
		return fmt.Errorf("the tar's sha256 is %s, the config says %s", got, c.RootFS.DiffIDs[0])
	}
	return nil
}

// executable checks that path is an executable file (following links).
func executable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return probe.NotThere(err)
	}
	if !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}
