package embedetcd

// RemoveIfStale is removeIfStale, for the tests of the package's users.
var RemoveIfStale = removeIfStale
