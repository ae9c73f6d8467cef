package client

// LeaseID is the id of a lease; 0 (NoLease) means none.
type LeaseID int64

// NoLease is the absence of a lease.
const NoLease LeaseID = 0
