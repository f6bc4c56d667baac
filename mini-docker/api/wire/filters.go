package wire

import (
	"encoding/json"
	"slices"

	"mini-docker/mini-docker/filters"
)

// ParseFilters reads a list request's ?filters= into the filters the
// CLI's --filter makes (package filters matches them), in both of the
// parameter's shapes: {"status":{"running":true}} and the older
// {"status":["running"]}. A key outside known is refused, as dockerd
// refuses it. Compose finds the objects of a project so:
// {"label":["com.docker.compose.project=NAME"]}.
func ParseFilters(raw string, known ...string) (filters.Args, error) {
	out := filters.Args{}
	if raw == "" {
		return out, nil
	}
	var generic map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &generic); err != nil {
		return nil, Badf("invalid filters %q: %v", raw, err)
	}
	for k, v := range generic {
		if !slices.Contains(known, k) {
			return nil, Badf("invalid filter '%s'", k)
		}
		var set map[string]bool
		var list []string
		switch {
		case json.Unmarshal(v, &set) == nil:
			for val := range set {
				list = append(list, val)
			}
		case json.Unmarshal(v, &list) == nil:
		default:
			return nil, Badf("invalid filter '%s': want a list or a set of values", k)
		}
		out[k] = list
	}
	return out, nil
}
