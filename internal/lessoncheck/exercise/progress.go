package exercise

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Progress is which exercises the learner has passed, kept in their home
// (ProgressPath) as JSON: {"passed": {"03.2": "2026-12-03T04:10:00Z"}}.
type Progress struct {
	Passed map[string]time.Time `json:"passed"`
}

// ProgressPath is where progress is kept: $MINI_DOCKER_LESSON_STATE, else
// $XDG_STATE_HOME/mini-docker/lessons.json, else
// ~/.local/state/mini-docker/lessons.json.
func ProgressPath() (string, error) {
	if p := os.Getenv("MINI_DOCKER_LESSON_STATE"); p != "" {
		return p, nil
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "mini-docker", "lessons.json"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("where to keep lesson progress: %w", err)
	}
	return filepath.Join(home, ".local", "state", "mini-docker", "lessons.json"), nil
}

// LoadProgress reads the progress file; a missing file is no progress.
func LoadProgress(path string) (*Progress, error) {
	p := &Progress{Passed: map[string]time.Time{}}
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read lesson progress: %w", err)
	}
	if err := json.Unmarshal(b, p); err != nil {
		return nil, fmt.Errorf("read lesson progress %s: %w", path, err)
	}
	if p.Passed == nil {
		p.Passed = map[string]time.Time{}
	}
	return p, nil
}

// MarkPassed records that exercise id passed now, writing the file
// atomically (a temporary file renamed over it).
func MarkPassed(path, id string, now time.Time) error {
	p, err := LoadProgress(path)
	if err != nil {
		return err
	}
	if _, ok := p.Passed[id]; ok {
		return nil
	}
	p.Passed[id] = now.UTC().Truncate(time.Second)
	b, _ := json.MarshalIndent(p, "", "  ")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("save lesson progress: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("save lesson progress: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("save lesson progress: %w", err)
	}
	return nil
}
