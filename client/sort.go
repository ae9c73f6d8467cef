package client

// SortTarget is what a get sorts by.
type SortTarget int

// SortOrder is the direction of a sort.
type SortOrder int

// Sort orders.
const (
	SortNone SortOrder = iota
	SortAscend
	SortDescend
)

// Sort targets.
const (
	SortByKey SortTarget = iota
	SortByVersion
	SortByCreateRevision
	SortByModRevision
	SortByValue
)

// SortOption is a target and an order.
type SortOption struct {
	Target SortTarget
	Order  SortOrder
}
