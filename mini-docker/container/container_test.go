package container

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

func TestNewIDIs64Hex(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{64}$`)
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := NewID()
		if !re.MatchString(id) {
			t.Fatalf("NewID() = %q, want 64 hex digits", id)
		}
		if allDigits(id[:12]) {
			t.Fatalf("NewID() = %q: short ID is all digits", id)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
	}
}

func TestRandomNameLooksLikeDockers(t *testing.T) {
	re := regexp.MustCompile(`^[a-z]+_[a-z]+[0-9]?$`)
	for i := 0; i < 100; i++ {
		if n := RandomName(i % 2); !re.MatchString(n) || n == "boring_wozniak" {
			t.Fatalf("RandomName() = %q", n)
		}
	}
}

func TestCheckName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"demo", true}, {"my-app_1.0", true}, {"/demo", true},
		{"a", false}, {"-x", false}, {"has space", false}, {"ünï", false}, {"", false},
	} {
		err := CheckName(tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("CheckName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestCreateFindRemove(t *testing.T) {
	s := &Store{Root: t.TempDir()}
	c, err := s.Create("demo", func(c *Container) { c.Config.Image = "debian" })
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "/demo" || c.State.Status != "created" {
		t.Fatalf("created %+v", c)
	}
	for _, ref := range []string{c.ID, "demo", "/demo", c.ID[:12], c.ID[:4]} {
		got, err := s.Find(ref)
		if err != nil || got.ID != c.ID {
			t.Errorf("Find(%q) = %v, %v", ref, got, err)
		}
	}
	_, err = s.Create("demo", nil)
	var inUse *ErrNameInUse
	if !errors.As(err, &inUse) {
		t.Fatalf("second Create(demo) = %v, want name in use", err)
	}
	want := `Conflict. The container name "/demo" is already in use by container "` + c.ID + `". You have to remove (or rename) that container to be able to reuse that name.`
	if err.Error() != want {
		t.Errorf("error %q\nwant  %q", err, want)
	}
	if err := s.Remove(c.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.Find("demo")
	var nf *ErrNoSuchContainer
	if !errors.As(err, &nf) || err.Error() != "No such container: demo" {
		t.Errorf("Find after Remove = %v", err)
	}
}

// TestConcurrentCreateSameName: of 20 runs racing for one name, exactly
// one wins (the flock around create).
func TestConcurrentCreateSameName(t *testing.T) {
	s := &Store{Root: t.TempDir()}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Create("race", nil); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d creates of the same name won, want 1", wins)
	}
	ids, _ := s.IDs()
	if len(ids) != 1 {
		t.Fatalf("%d state folders, want 1", len(ids))
	}
}

func TestSaveIsAtomic(t *testing.T) {
	s := &Store{Root: t.TempDir()}
	c, err := s.Create("", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.State.Status = "running"
	if err := s.Save(c); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(s.Dir(c.ID))
	for _, e := range ents {
		if e.Name() != "state.json" {
			t.Errorf("left behind %s", e.Name())
		}
	}
	got, err := s.Load(c.ID)
	if err != nil || got.State.Status != "running" {
		t.Fatalf("Load = %+v, %v", got, err)
	}
}

func TestAliveKnowsRecycledPIDs(t *testing.T) {
	st, err := StartTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !Alive(os.Getpid(), st) {
		t.Error("Alive(self) = false")
	}
	if Alive(os.Getpid(), st+1) {
		t.Error("Alive(self, other start time) = true")
	}
	if Alive(0, 0) || Alive(1<<30, 0) {
		t.Error("Alive of no process = true")
	}
}

// TestSweepRemoving: what an rm killed during its removal left
// (containers/.removing-ID, an upper layer in it) is taken by the sweep
// system prune runs; the containers themselves are left alone.
func TestSweepRemoving(t *testing.T) {
	s := &Store{Root: t.TempDir()}
	half := filepath.Join(s.Root, "containers", ".removing-"+strings.Repeat("a", 64))
	if err := os.MkdirAll(filepath.Join(half, "diff", "usr"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(half, "diff", "usr", "big"), []byte("data"), 0o644)
	live := filepath.Join(s.Root, "containers", strings.Repeat("b", 64))
	os.MkdirAll(live, 0o755)
	if took := s.SweepRemoving(); len(took) != 1 {
		t.Errorf("swept %q, want the one half-removed folder", took)
	}
	if _, err := os.Lstat(half); err == nil {
		t.Errorf("%s is still there", half)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("a container's folder went too: %v", err)
	}
}
