package migrate

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
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

// Record is the JSON document of one run of one migration, at
// <prefix>history/<version>/<run>: one per run ever started (up, down,
// force, baseline), so that history shows every run. Run counts the runs
// of a version from 1. Records written by releases before runs were kept
// apart sit at <prefix>history/<version> and read as run 0.
type Record struct {
	Version       int64     `json:"version"`
	Run           int64     `json:"run,omitempty"`
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

	key string // where it was read from, or is to be written
}

// applied reports whether the version counts as applied after this run.
func (rec *Record) applied() bool {
	switch rec.Status {
	case StatusApplied, StatusBaselined:
		return true
	case StatusForced:
		return rec.Direction != "down"
	}
	return false
}

// keys are the etcd keys of one migration set.
type keys struct{ prefix string }

func (k keys) lock() string  { return k.prefix + "lock" }
func (k keys) state() string { return k.prefix + "state" }

// history keys are zero-padded so that they sort by version, then run.
func (k keys) history(v, run int64) string {
	return fmt.Sprintf("%shistory/%020d/%020d", k.prefix, v, run)
}
func (k keys) historyPrefix() string { return k.prefix + "history/" }

// parseHistoryKey returns the version and run a history key names: run 0
// for the one-record-per-version layout of earlier releases.
func (k keys) parseHistoryKey(key string) (version, run int64, err error) {
	rest := strings.TrimPrefix(key, k.historyPrefix())
	v, r, hasRun := strings.Cut(rest, "/")
	if version, err = strconv.ParseInt(v, 10, 64); err != nil {
		return 0, 0, fmt.Errorf("migrate: history key %s does not name a version", key)
	}
	if hasRun {
		if run, err = strconv.ParseInt(r, 10, 64); err != nil {
			return 0, 0, fmt.Errorf("migrate: history key %s does not name a run", key)
		}
	}
	return version, run, nil
}

func encode(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // State and Record always marshal
	}
	return string(b)
}
