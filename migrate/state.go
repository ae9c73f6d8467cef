package migrate

import (
	"encoding/json"
	"fmt"
	"time"
)

// State is the JSON document at <prefix>state.
type State struct {
	// Head is the highest applied version (0: none).
	Head int64 `json:"head"`
	// Dirty is set while a migration runs, and stays set when it failed or
	// its runner died: nothing more is applied until force or repair.
	Dirty bool `json:"dirty"`
	// InProgress is the version being (or last) applied while Dirty.
	InProgress int64 `json:"in_progress,omitempty"`
	// ToolVersion is the version of etcdscript that last wrote the state.
	ToolVersion string `json:"tool_version,omitempty"`
}

// Status values of a history record.
const (
	StatusStarted   = "started"
	StatusApplied   = "applied"
	StatusFailed    = "failed"
	StatusForced    = "forced"
	StatusBaselined = "baselined"
	StatusReverted  = "reverted"
)

// Record is the JSON document at <prefix>history/<version>: one per
// migration ever started.
type Record struct {
	Version       int64     `json:"version"`
	Name          string    `json:"name"`
	Checksum      string    `json:"checksum"`
	Status        string    `json:"status"`
	Direction     string    `json:"direction,omitempty"`
	StartedAt     time.Time `json:"started_at"`
	EndedAt       time.Time `json:"ended_at,omitzero"`
	Host          string    `json:"host,omitempty"`
	User          string    `json:"user,omitempty"`
	StartRevision int64     `json:"start_revision,omitempty"`
	EndRevision   int64     `json:"end_revision,omitempty"`
	Error         string    `json:"error,omitempty"`
}

// keys are the etcd keys of one migration set.
type keys struct{ prefix string }

func (k keys) lock() string  { return k.prefix + "lock" }
func (k keys) state() string { return k.prefix + "state" }

// history keys are zero-padded so that they sort by version.
func (k keys) history(v int64) string { return fmt.Sprintf("%shistory/%020d", k.prefix, v) }
func (k keys) historyPrefix() string  { return k.prefix + "history/" }

func encode(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // State and Record always marshal
	}
	return string(b)
}
