package luart

// SetTableLayoutOK switches the Shape fast path, for tests of the fallback;
// it returns the previous setting.
func SetTableLayoutOK(ok bool) bool {
	old := tableLayoutOK
	tableLayoutOK = ok
	return old
}
