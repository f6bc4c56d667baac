package events

import (
	"os"
	"strings"
	"testing"

	"mini-docker/mini-docker/container"
)

// The log is read back in order, from an offset, and stays bounded: past
// MaxSize it moves to events.log.1 and a new file begins.
func TestRecordReadRotate(t *testing.T) {
	root := t.TempDir()
	c := &container.Container{ID: strings.Repeat("a", 64), Name: "/demo"}
	c.Config.Image = "busybox"
	c.Config.Labels = map[string]string{"tier": "web"}
	if err := Container(root, "create", c, nil); err != nil {
		t.Fatal(err)
	}
	Container(root, "die", c, map[string]string{"exitCode": "3"})
	msgs, off, err := Read(root, 0)
	if err != nil || len(msgs) != 2 || msgs[1].Action != "die" || msgs[1].Actor.Attributes["exitCode"] != "3" ||
		msgs[0].Actor.Attributes["name"] != "demo" || msgs[0].Actor.Attributes["tier"] != "web" || msgs[0].Type != "container" {
		t.Fatalf("Read: %v %+v", err, msgs)
	}
	if more, _, _ := Read(root, off); len(more) != 0 {
		t.Errorf("from the offset: %+v", more)
	}
	big := map[string]string{"pad": strings.Repeat("x", 64<<10)}
	for i := 0; i < 40; i++ {
		Container(root, "start", c, big)
	}
	st, _ := os.Stat(Path(root))
	old, err := os.Stat(Path(root) + ".1")
	if err != nil || st.Size() > MaxSize+70<<10 || old.Size() > MaxSize+70<<10 {
		t.Errorf("not bounded: %v, %d + %d bytes", err, st.Size(), old.Size())
	}
	if all, _, _ := Read(root, 0); len(all) < 16 || all[len(all)-1].Action != "start" {
		t.Errorf("after rotation: %d events", len(all))
	}
}
