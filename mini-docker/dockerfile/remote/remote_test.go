package remote

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDownload: ADD's download from a real HTTP server on loopback: the
// file is 0600 with the server's Last-Modified time, a wrong checksum,
// a body over the limit and an error status are refused and leave no
// file behind.
func TestDownload(t *testing.T) {
	body := "downloaded by ADD\n"
	modified := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/files/a.txt" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Last-Modified", modified.Format(http.TimeFormat))
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	good := fmt.Sprintf("%x", sha256.Sum256([]byte(body)))
	dir := t.TempDir()
	if err := Download(srv.URL+"/files/a.txt", dir, "a.txt", good, 1<<20); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "a.txt"))
	if err != nil || fi.Mode().Perm() != 0o600 || !fi.ModTime().Equal(modified) || fi.Size() != int64(len(body)) {
		t.Errorf("downloaded file: %v %v %v %v", err, fi.Mode(), fi.ModTime(), fi.Size())
	}
	bad := strings.Repeat("0", 64)
	for _, tt := range []struct {
		path, sum string
		limit     int64
		want      string
	}{
		{"/files/a.txt", bad, 1 << 20, "digest mismatch"},
		{"/files/a.txt", "", 5, "more than the limit of 5"},
		{"/missing", "", 1 << 20, "404 Not Found"},
	} {
		d := t.TempDir()
		err := Download(srv.URL+tt.path, d, "x", tt.sum, tt.limit)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Download(%s, limit %d) = %v, want %q", tt.path, tt.limit, err, tt.want)
		}
	}
	if n, err := FileName(srv.URL + "/files/a.txt?x=1"); n != "a.txt" || err != nil {
		t.Errorf("downloadName = %q, %v", n, err)
	}
	if _, err := FileName(srv.URL); err == nil {
		t.Error("a URL without a path gave a file name")
	}
}
