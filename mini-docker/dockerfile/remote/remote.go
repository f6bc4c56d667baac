// Package remote is what ADD does with a URL source, as Docker's
// builder does: download the file over HTTP(S) into the build's scratch
// folder (bounded in size, checked against --checksum), named after the
// URL's last path element, mode 0600, dated by the server's
// Last-Modified. It is not unpacked, even when it is an archive.
//
// Lesson 11 (lessons/11-images.md) teaches the builder it belongs to.
package remote

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"mini-docker/internal/idlehttp"
)

// MaxDownload bounds what ADD downloads from one URL (1 GiB).
var MaxDownload int64 = 1 << 30

// IsURL reports whether an ADD source is a URL to download.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// ParseChecksum reads --checksum's value: sha256:<64 hex digits>.
func ParseChecksum(v string) (string, error) {
	algo, hexsum, ok := strings.Cut(v, ":")
	if !ok || algo != "sha256" {
		return "", fmt.Errorf("unsupported checksum %q: want sha256:<hex>", v)
	}
	if len(hexsum) != 64 {
		return "", fmt.Errorf("invalid checksum %q: a sha256 has 64 hex digits", v)
	}
	if _, err := hex.DecodeString(hexsum); err != nil {
		return "", fmt.Errorf("invalid checksum %q: %w", v, err)
	}
	return strings.ToLower(hexsum), nil
}

// FileName is the file name a URL gives when DEST is a folder: the
// last element of its path (Docker: "Could not find a file name" when
// there is none).
func FileName(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	name := path.Base(u.Path)
	if u.Path == "" || name == "/" || name == "." || name == ".." {
		return "", fmt.Errorf("cannot determine filename from url: %s", raw)
	}
	return name, nil
}

// Download fetches raw into dir/name (mode 0600, the Last-Modified
// time), refusing more than limit bytes and, when sum is set, content
// whose sha256 differs.
func Download(raw, dir, name, sum string, limit int64) error {
	resp, err := idlehttp.Client().Get(raw)
	if err != nil {
		return fmt.Errorf("ADD failed: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("ADD failed: %s: %s", raw, resp.Status)
	}
	if resp.ContentLength > limit {
		return fmt.Errorf("ADD failed: %s: %d bytes, more than the limit of %d", raw, resp.ContentLength, limit)
	}
	p := filepath.Join(dir, name)
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(resp.Body, limit+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		return fmt.Errorf("ADD failed: %s: %w", raw, err)
	case n > limit:
		return fmt.Errorf("ADD failed: %s: more than the limit of %d bytes", raw, limit)
	case sum != "" && hex.EncodeToString(h.Sum(nil)) != sum:
		return fmt.Errorf("ADD failed: %s: digest mismatch: got sha256:%x, want sha256:%s", raw, h.Sum(nil), sum)
	}
	if t, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		os.Chtimes(p, t, t)
	} else {
		os.Chtimes(p, time.Now(), time.Now())
	}
	return nil
}
