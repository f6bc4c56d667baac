package lessons

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"mini-docker/internal/lessonrun"
	"mini-docker/internal/testenv"
)

// mermaidBlock is a ```mermaid fence and its body: GitHub draws it; the
// runner never runs it (only ```console blocks run).
var mermaidBlock = regexp.MustCompile("(?ms)^```mermaid\n(.*?)^```$")

// mermaidStart is the first line of a diagram GitHub's Mermaid draws:
// its type, and for a flowchart its direction.
var mermaidStart = regexp.MustCompile(`^(flowchart|graph) (TB|TD|BT|RL|LR)$|^(sequenceDiagram|classDiagram|stateDiagram-v2|erDiagram)$`)

// TestEveryLessonHasADiagram: each lesson has a Mermaid diagram that
// starts as Mermaid wants (a type, a direction) and whose brackets and
// quotes pair up on every line, the mistakes that make GitHub show an
// error box instead of the picture; lesson 09 draws the learner's own
// container with inspect --tree, in a block the runner checks.
func TestEveryLessonHasADiagram(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testenv.RepoRoot(), "lessons", "[0-9][0-9]-*.md"))
	if len(files) == 0 {
		t.Fatal("no lessons found")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		blocks := mermaidBlock.FindAllStringSubmatch(string(b), -1)
		if len(blocks) == 0 {
			t.Errorf("%s has no ```mermaid diagram", filepath.Base(f))
		}
		for _, m := range blocks {
			lines := strings.Split(strings.TrimRight(m[1], "\n"), "\n")
			if !mermaidStart.MatchString(strings.TrimSpace(lines[0])) {
				t.Errorf("%s: a diagram starts with %q, not a Mermaid type and direction", filepath.Base(f), lines[0])
			}
			for _, l := range lines[1:] {
				if strings.Count(l, `"`)%2 != 0 || strings.Count(l, "[") != strings.Count(l, "]") ||
					strings.Count(l, "(") != strings.Count(l, ")") || strings.Count(l, "{") != strings.Count(l, "}") {
					t.Errorf("%s: an unpaired quote or bracket in a diagram line: %s", filepath.Base(f), l)
				}
			}
		}
	}
	l, err := lessonrun.ParseFile(filepath.Join(testenv.RepoRoot(), "lessons", "09-mini-docker.md"))
	if err != nil {
		t.Fatal(err)
	}
	tree := false
	for _, st := range l.Steps {
		tree = tree || strings.HasPrefix(st.Command, "mini-docker inspect --tree ")
	}
	if !tree {
		t.Error("lesson 09 runs no `mini-docker inspect --tree NAME`")
	}
}
