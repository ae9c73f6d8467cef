package client

// SetWatchBufferLimitForTest sets how many bytes of events a watch may hold
// for its consumer before it is paused on the server, and returns a function
// that restores the previous limit. Only for tests that run no watch
// concurrently with the change.
func SetWatchBufferLimitForTest(n int) (restore func()) {
	old := watchBufferLimit
	watchBufferLimit = n
	return func() { watchBufferLimit = old }
}

// WatchPausesForTest returns how many times a watch was paused on the server
// because its consumer fell behind.
func WatchPausesForTest() int64 { return watchPauses.Load() }
