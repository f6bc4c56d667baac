// Package events is mini-docker's record of state changes, what `docker
// events` shows: each change a container or image goes through (create,
// start, die, kill, stop, pause, unpause, rename, destroy; tag, untag,
// delete) is one line of JSON, Docker's events.Message, appended to
// <root>/events.log. There is no daemon to keep them in memory, so the
// file is the log: append-only (O_APPEND writes of one line are atomic
// between processes), and bounded: past MaxSize it is renamed to
// events.log.1 (the older half, replaced each time) and begun anew.
package events

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	mobyevents "github.com/moby/moby/api/types/events"

	"mini-docker/mini-docker/container"
	"mini-docker/mini-docker/logs"
)

// Message is Docker's event.
type Message = mobyevents.Message

// MaxSize bounds events.log; with events.log.1 the log holds at most
// twice as much.
const MaxSize = 1 << 20

// Path is the log's file under the state root.
func Path(root string) string { return filepath.Join(root, "events.log") }

// Record appends one event. Failing to record never fails the command
// that changed the state: the error is returned for the caller to ignore.
func Record(root string, typ mobyevents.Type, action mobyevents.Action, id string, attrs map[string]string) error {
	now := time.Now()
	b, err := json.Marshal(Message{Type: typ, Action: action, Actor: mobyevents.Actor{ID: id, Attributes: attrs},
		Scope: "local", Time: now.Unix(), TimeNano: now.UnixNano()})
	if err != nil {
		return err
	}
	p := Path(root)
	if st, err := os.Stat(p); err == nil && st.Size() > MaxSize {
		os.Rename(p, p+".1") // two writers racing here each rename once: at worst one line is in .1
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.Write(append(b, '\n'))
	return err
}

// Container records a container's event with the attributes Docker
// gives it: its labels, image and name (and the exit code for die).
func Container(root string, action mobyevents.Action, c *container.Container, extra map[string]string) error {
	attrs := map[string]string{"image": c.Config.Image, "name": trimSlash(c.Name)}
	for k, v := range c.Config.Labels {
		attrs[k] = v
	}
	for k, v := range extra {
		attrs[k] = v
	}
	return Record(root, mobyevents.ContainerEventType, action, c.ID, attrs)
}

func trimSlash(s string) string {
	if len(s) > 0 && s[0] == '/' {
		return s[1:]
	}
	return s
}

// Read returns the recorded events from offset on in events.log (the
// older file first when offset is 0), and the offset to read from next.
func Read(root string, offset int64) ([]Message, int64, error) {
	var out []Message
	if offset == 0 {
		old, _, _ := logs.ReadJSONLines[Message](Path(root)+".1", 0)
		out = old
	}
	cur, next, err := logs.ReadJSONLines[Message](Path(root), offset)
	if os.IsNotExist(err) {
		return out, 0, nil
	}
	return append(out, cur...), next, err
}
