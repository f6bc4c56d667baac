package formatter

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"mini-docker/mini-docker/container"
)

func demo() *container.Container {
	c := &container.Container{ID: strings.Repeat("ab", 32), Name: "/demo", Path: "sh", Args: []string{"-c", "echo hello world; sleep 300"},
		Created: time.Now().Add(-time.Hour)}
	c.Config.Image = "busybox"
	c.Config.Labels = map[string]string{"com.example.tier": "web", "a": "b"}
	c.State = container.State{Status: container.Running, Running: true, StartedAt: time.Now().Add(-time.Hour)}
	return c
}

func render(t *testing.T, f Format, rows ...any) string {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, f, ContainerHeader, rows); err != nil {
		t.Fatalf("Write(%q): %v", f, err)
	}
	return b.String()
}

// A table's header row is the same template run on the titles: only the
// columns the template names, a label's title its key's last part.
func TestTableHeader(t *testing.T) {
	row := &ContainerContext{C: demo(), Trunc: true}
	got := render(t, `table {{.Names}}\t{{.Label "com.example.tier"}}\t{{.Command}}`, row)
	lines := strings.Split(strings.TrimRight(got, "\n"), "\n")
	if len(lines) != 2 || strings.Fields(lines[0])[0] != "NAMES" || strings.Fields(lines[0])[1] != "tier" || strings.Fields(lines[0])[2] != "COMMAND" {
		t.Fatalf("table:\n%s", got)
	}
	if !strings.Contains(lines[1], `"sh -c 'echo hello w…"`) || !strings.HasPrefix(lines[1], "demo ") {
		t.Errorf("row: %q", lines[1])
	}
	// Without "table": no header, one line per row, \t a tab.
	if got := render(t, `{{.Names}}\t{{.State}}`, row); got != "demo\trunning\n" {
		t.Errorf("plain: %q", got)
	}
}

// "json" is one object per row, keyed by the context's fields.
func TestJSONRow(t *testing.T) {
	got := render(t, "json", &ContainerContext{C: demo(), Trunc: true})
	var m map[string]any
	if err := json.Unmarshal([]byte(got), &m); err != nil {
		t.Fatalf("%v: %q", err, got)
	}
	want := []string{"Command", "CreatedAt", "ID", "Image", "Labels", "LocalVolumes", "Mounts", "Names", "Networks", "Platform", "Ports", "RunningFor", "Size", "State", "Status"}
	if len(m) != len(want) {
		t.Errorf("keys: %v, want %v", m, want)
	}
	for _, k := range want {
		if _, ok := m[k]; !ok {
			t.Errorf("no %s in %s", k, got)
		}
	}
	if m["ID"] != strings.Repeat("ab", 6) || m["Labels"] != "a=b,com.example.tier=web" || m["Status"] != "Up About an hour" {
		t.Errorf("values: %s", got)
	}
}

// An unknown field is the template's own error, naming the type as the
// docker CLI's does; a template that does not parse is a ParseError.
func TestTemplateErrors(t *testing.T) {
	err := Check("{{.Foo}}", &ContainerContext{C: &container.Container{}})
	if _, ok := err.(*ExecError); !ok || !strings.Contains(err.Error(), `can't evaluate field Foo in type *formatter.ContainerContext`) {
		t.Errorf("unknown field: %v", err)
	}
	if _, ok := Check("{{.Names", &ContainerContext{}).(*ParseError); !ok {
		t.Error("unclosed action is not a ParseError")
	}
	var b bytes.Buffer
	err = Write(&b, "{{.Foo}}", ImageHeader, []any{NewImageContext(ImageRow{}, true)})
	if err == nil || !strings.Contains(err.Error(), "in type *formatter.imageContext") {
		t.Errorf("image: %v", err)
	}
}
