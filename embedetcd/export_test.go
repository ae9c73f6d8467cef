package embedetcd

// RemoveIfStale is removeIfStale, for the package's external tests.
var RemoveIfStale = removeIfStale
